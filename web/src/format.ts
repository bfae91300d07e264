/** Timestamps in the reader's own time zone and locale, and stable colours for names. */

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });

/** "14:02" or "02:02 PM", as the reader's locale writes a time of day. */
export function clockTime(ts: number): string {
  return timeFormat.format(new Date(ts));
}

/** Local midnight of the day `ts` falls on: the key of that day's divider. */
export function dayStart(ts: number): number {
  const d = new Date(ts);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** "Wednesday, 25 November 2026": the divider above each day's lines. */
export function dayLabel(ts: number): string {
  return dayFormat.format(new Date(ts));
}

/** For the title tooltip and the datetime attribute readers can hover. */
export function fullTime(ts: number): string {
  return fullFormat.format(new Date(ts));
}

/**
 * The widest time of day this locale writes ("02:58 PM" is wider than "14:58"), for every
 * hour, so the time column fits the reader's clock without guessing.
 */
export function clockSamples(): string[] {
  return Array.from({ length: 24 }, (_, h) => clockTime(new Date(2000, 0, 1, h, 58).getTime()));
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
