/**
 * Message rows as SQLite returns them, and as history returns them: shared by the store
 * and its full-text search, which reads the same rows.
 */
import type { HistoryEntry } from '../core/events.js';
import { tagsFromStore } from '../core/tags.js';

/** A message row read with safeIntegers: every INTEGER column a BigInt. */
export interface StoredRow {
  id: bigint;
  room: string;
  sender: string;
  mask: string;
  text: string;
  kind: string;
  ts: bigint;
  /** Client-only tags as JSON, or null (absent in rows read before the column's migration). */
  tags?: string | null;
}

/** A row read with safeIntegers as history returns it (ids exact: they need 64 bits). */
export function entryOf(r: StoredRow): HistoryEntry {
  return {
    id: r.id.toString(),
    ts: Number(r.ts),
    room: r.room,
    from: r.sender,
    mask: r.mask,
    text: r.text,
    kind: r.kind as HistoryEntry['kind'],
    ...withTags(r.tags),
  };
}

function withTags(json: string | null | undefined): { tags?: Record<string, string> } {
  const tags = tagsFromStore(json);
  return tags ? { tags } : {};
}
