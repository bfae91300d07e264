/**
 * The one cleaning rule for text that one person gives and others see: messages, topics,
 * every kind of reason, away texts, realnames, masks, client tags. Whatever the protocol
 * it came in on, it leaves here unable to break another protocol's framing or another
 * person's terminal:
 *
 * - C0 controls (CR and LF included: no second, forged protocol line), DEL and C1 controls
 *   (U+0080–U+009F, where 8-bit terminals read CSI) are removed; ESC is C0, so an ANSI
 *   escape sequence loses its ESC and shows as harmless text. TAB stays.
 * - Unicode line and paragraph separators (U+2028/U+2029) and the bidirectional
 *   embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) are removed: they
 *   reorder what follows them on screen ("Trojan source"). Marks (LRM/RLM/ALM) stay, as do
 *   joiners, which emoji sequences and many scripts need.
 * - A lone surrogate (half of a UTF-16 pair, which JSON's \uD800 escapes can carry) becomes
 *   U+FFFD: it is no character, UTF-8 cannot encode it (line and IRC clients and the store
 *   already got U+FFFD for it), and strict JSON parsers refuse a message holding one.
 * - Text is bounded in UTF-8 bytes, never cut inside a character.
 *
 * Names of people and rooms, which others must be able to tell apart, follow stricter
 * rules (names.ts: no format characters at all).
 */

// Built from fixed ranges, never from input.
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

// A high surrogate not followed by a low one, or a low one not preceded by a high one
// (code units: no 'u' flag).
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATE_ALL = new RegExp(LONE_SURROGATE.source, 'g');

/** Removes what may not reach another protocol or terminal (see above). */
export function stripControls(s: string): string {
  const clean = UNSAFE.test(s) ? s.replace(UNSAFE_ALL, '') : s;
  return LONE_SURROGATE.test(clean) ? clean.replace(LONE_SURROGATE_ALL, '\ufffd') : clean;
}

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes || Buffer.byteLength(s) <= maxBytes) return s;
  const buf = Buffer.from(s).subarray(0, maxBytes);
  // Drop a partial trailing character: decoding turns it into U+FFFD, which we remove.
  return buf.toString('utf8').replace(/\uFFFD+$/, '');
}

/** The cleaning rule: safe for every protocol and terminal, at most `maxBytes`. */
export function cleanText(s: string, maxBytes: number): string {
  return truncateUtf8(stripControls(s), maxBytes);
}

/** Two-digit HH:MM in the server's time zone, as the line protocol shows times. */
export function clock(ts: number): string {
  const d = new Date(ts);
  const h = d.getHours();
  const m = d.getMinutes();
  return `${h < 10 ? '0' : ''}${h}:${m < 10 ? '0' : ''}${m}`;
}
