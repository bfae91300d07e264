/**
 * Hostile strings, and the rules every byte the server sends must keep.
 *
 * The generator mixes ordinary text with everything that has broken a chat protocol or a
 * terminal somewhere: line breaks (CR, LF, NEL, U+2028/2029), NUL and other C0 controls,
 * ANSI/OSC/DCS escape sequences, C1 controls (U+0080-U+009F, where 8-bit terminals read
 * CSI), bidirectional overrides and isolates ("Trojan source"), zero-width characters,
 * IRC's own syntax and formatting codes, lone surrogates, and text long enough to be cut.
 * Each string carries a marker (`Zq<n>Q`) so a violation can be traced to its action.
 *
 * The rules are the server's documented cleaning rule (src/core/text.ts, docs/protocol.md):
 * in text one person gives and others see, no C0 control but TAB, no DEL, no C1 control,
 * no U+2028/2029, no bidi embedding, override or isolate; names of people and rooms hold
 * no format characters at all. They are restated here from the documentation, not
 * imported, so the check does not share a bug with the code under test.
 */
import type { Rng } from './rng.js';

const ESCAPES = [
  '\x1b[2J',
  '\x1b[31m',
  '\x1b[0m',
  '\x1b]0;pwned\x07',
  '\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\',
  '\x1bPq#0;2;0;0;0\x1b\\',
  '\x1bc',
  '\x1b[6n',
  '\x1b[?1049h',
];
const C1 = ['\u0085', '\u009b2J', '\u0090', '\u009d0;x\u009c', '\u0080', '\u009f'];
const BIDI = [
  '\u202e',
  '\u202d',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
];
const ZERO_WIDTH = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u180e'];
const BREAKS = ['\r', '\n', '\r\n', '\n\r', '\u2028', '\u2029', '\u000b', '\u000c'];
const C0 = ['\0', '\x01', '\x07', '\x08', '\x7f', '\x1a', '\x1c'];
const IRC_SYNTAX = [' :', ':', ' ', ',', '@', '!', '*', '#', ';', '\\', '\\s', '\\:', '=', '+'];
const IRC_FORMAT = ['\x02', '\x031,2', '\x0f', '\x16', '\x1d', '\x1f', '\x01ACTION x\x01'];
const TEXT = ['hello', 'é', '日本語', '👍🏽', '👨‍👩‍👧', 'naïve', 'Ωμέγα', '\t', 'x'];
const SURROGATES = ['\ud800', '\udfff', '\ud83d'];

const KINDS: [number, (rng: Rng) => string][] = [
  [3, (r) => r.pick(TEXT)],
  [2, (r) => r.pick(ESCAPES)],
  [2, (r) => r.pick(C1)],
  [2, (r) => r.pick(BIDI)],
  [2, (r) => r.pick(ZERO_WIDTH)],
  [2, (r) => r.pick(BREAKS)],
  [2, (r) => r.pick(C0)],
  [2, (r) => r.pick(IRC_SYNTAX)],
  [1, (r) => r.pick(IRC_FORMAT)],
];
const WEIGHT = KINDS.reduce((n, [w]) => n + w, 0);

export interface HostileOptions {
  /** Lone surrogates can only be sent as JSON escapes. */
  surrogates?: boolean;
  /** Line-based senders cannot put a CR or LF inside one line. */
  noLineBreaks?: boolean;
  /** Sometimes make it long (over the 4,000-byte message limit). */
  long?: boolean;
}

export function hostile(rng: Rng, marker: string, o: HostileOptions = {}): string {
  const parts: string[] = [];
  const n = rng.int(1, 6);
  for (let i = 0; i < n; i++) {
    let roll = rng.next() * WEIGHT;
    for (const [w, make] of KINDS) {
      roll -= w;
      if (roll < 0) {
        parts.push(make(rng));
        break;
      }
    }
  }
  if (o.surrogates && rng.next() < 0.1) parts.push(rng.pick(SURROGATES));
  parts.splice(rng.int(0, parts.length), 0, marker);
  if (o.long && rng.next() < 0.08) parts.push('é'.repeat(rng.int(1500, 2600)), '\x1b[2J');
  let s = parts.join('');
  if (o.noLineBreaks) s = s.replace(/[\r\n]/g, '');
  return s;
}

/** What may never reach another person: the cleaning rule's characters (see above). */
export const UNSAFE_TEXT = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
/** Names of people and rooms: none of those, and no format (Cf) character either. */
export const UNSAFE_NAME = /[\x00-\x1f\x7f-\x9f\u2028\u2029\p{Cf}]/u;
/** A lone surrogate: valid in a JS string and in JSON, not in UTF-8. */
export const LONE_SURROGATE =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The first unsafe character of `s`, as a code point (`U+001B`), or null. */
export function firstUnsafe(s: string, rule: RegExp): string | null {
  const m = rule.exec(s);
  if (!m) return null;
  return `U+${(m[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** A string made printable for a report: every non-printable character as \u{..}. */
export function visible(s: string, max = 240): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    out +=
      cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || /\p{Cf}|[\u2028\u2029]/u.test(ch)
        ? `\\u{${cp.toString(16)}}`
        : ch;
    if (out.length > max) return out.slice(0, max) + '...';
  }
  return out;
}
