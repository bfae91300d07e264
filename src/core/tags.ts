/**
 * Client-only message tags (IRCv3 message-tags: `+typing`, `+draft/react`) pass from one
 * client to others, so they get the cleaning rule too: keys are the grammar's
 * `+[vendor/]name` (letters, digits, `-`, `.`, `/`), values lose controls (a CR or LF in a
 * value would end the line of any encoder that forgot to escape it), and the whole set is
 * bounded as the spec bounds a client's tag section.
 */
import { stripControls } from './text.js';

const KEY = /^\+(?:[A-Za-z0-9.-]+\/)?[A-Za-z0-9-]+$/;
/** message-tags: clients may send 4094 bytes of tags. */
const MAX_BYTES = 4094;

/**
 * Client tags as a store keeps them with a message (a JSON object), or null for none. They
 * were cleaned and bounded by checkClientTags when the message was sent.
 */
export function storedTags(tags: Record<string, string> | undefined): string | null {
  return tags ? JSON.stringify(tags) : null;
}

/**
 * A store's column back into client tags: read as input like any other (the cleaning rule
 * and bound again), so a damaged or hand-edited row costs its tags, never the replay.
 */
export function tagsFromStore(json: string | null | undefined): Record<string, string> | undefined {
  if (!json) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const strings: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') strings[k] = v;
  return checkClientTags(strings);
}

export function checkClientTags(
  tags: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (!tags) return undefined;
  let out: Record<string, string> | undefined;
  let bytes = 0;
  for (const [key, raw] of Object.entries(tags)) {
    if (!KEY.test(key)) continue;
    const value = stripControls(raw);
    bytes += key.length + 1 + Buffer.byteLength(value) + 1;
    if (bytes > MAX_BYTES) break;
    (out ??= {})[key] = value;
  }
  return out;
}
