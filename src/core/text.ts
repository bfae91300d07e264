/**
 * Text hygiene applied to everything one person sends to another: no terminal control
 * sequences may reach someone else's terminal, and text is bounded in bytes.
 */

// C0 controls except TAB, DEL, and C1 controls (U+0080–U+009F). ESC goes with C0,
// so an ANSI escape sequence loses its ESC and is shown as harmless text.
const HAS_CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

export function stripControls(s: string): string {
  return HAS_CONTROL.test(s) ? s.replace(CONTROLS, '') : s;
}

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes || Buffer.byteLength(s) <= maxBytes) return s;
  const buf = Buffer.from(s).subarray(0, maxBytes);
  // Drop a partial trailing character: decoding turns it into U+FFFD, which we remove.
  return buf.toString('utf8').replace(/\uFFFD+$/, '');
}

/** Two-digit HH:MM in the server's time zone, as the line protocol shows times. */
export function clock(ts: number): string {
  const d = new Date(ts);
  const h = d.getHours();
  const m = d.getMinutes();
  return `${h < 10 ? '0' : ''}${h}:${m < 10 ? '0' : ''}${m}`;
}
