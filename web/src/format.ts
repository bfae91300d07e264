/** Timestamps in the reader's own time zone and locale, and stable colours for names. */

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });

function sameDay(a: Date, b: Date): boolean {
  return (
    a.getFullYear() === b.getFullYear() &&
    a.getMonth() === b.getMonth() &&
    a.getDate() === b.getDate()
  );
}

/** "14:02" today, "Mar 3 14:02" on other days. */
export function shortTime(ts: number, now = new Date()): string {
  const d = new Date(ts);
  const time = timeFormat.format(d);
  return sameDay(d, now) ? time : `${dayFormat.format(d)} ${time}`;
}

/** For the title tooltip and the datetime attribute readers can hover. */
export function fullTime(ts: number): string {
  return fullFormat.format(new Date(ts));
}

/** A hue per name, stable across sessions and pages (FNV-1a). */
export function nameHue(name: string): number {
  let h = 0x811c9dc5;
  for (const ch of name.toLowerCase()) {
    h ^= ch.codePointAt(0) ?? 0;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % 360;
}

/** Names and rooms compare ASCII case-insensitively, as on the server (core/names.ts). */
export function fold(name: string): string {
  return name.toLowerCase();
}
