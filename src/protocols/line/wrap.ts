/**
 * Width-aware line wrapping for terminals whose width we know (telnet NAWS): pure.
 *
 * Columns are counted per grapheme cluster (Intl.Segmenter) with `string-width`, which
 * follows Unicode's East Asian Width and emoji data: CJK and emoji take two columns,
 * combining marks none. A line breaks at a space (the spaces at the break are dropped), or
 * between two graphemes when either is two columns wide (CJK text has no spaces, and
 * UAX #14 lets it break between ideographs), or, for a word longer than a whole line,
 * between any two graphemes. A grapheme is never split. Continuation lines start with
 * `indent` spaces, so they line up under the text.
 */
import stringWidth from 'string-width';

/** Below this many columns we do not wrap at all (the terminal's own wrapping is better). */
export const MIN_WRAP_WIDTH = 20;
/** Wider windows are wrapped at this width: it bounds the encodings kept per width. */
export const MAX_WRAP_WIDTH = 1000;
const TAB_STOP = 8;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Columns one grapheme cluster takes (a TAB is measured where it stands, by the caller). */
export function graphemeWidth(g: string): number {
  if (g.length === 1) {
    const c = g.charCodeAt(0);
    if (c >= 0x20 && c < 0x7f) return 1;
  }
  return stringWidth(g);
}

/** Splits text into grapheme clusters; plain ASCII without the segmenter. */
export function graphemes(text: string): string[] {
  if (PRINTABLE_ASCII.test(text)) return text.split('');
  const out: string[] = [];
  for (const { segment } of segmenter.segment(text)) out.push(segment);
  return out;
}

function advance(g: string, col: number): number {
  return g === '\t' ? col + TAB_STOP - (col % TAB_STOP) : col + graphemeWidth(g);
}

/** Columns `text` takes on a terminal when it starts at column `col` (TABs to the next stop). */
export function displayWidth(text: string, col = 0): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let end = col;
  for (const g of graphemes(text)) end = advance(g, end);
  return end - col;
}

/** Where each output line of `text` starts and ends (UTF-16 offsets into `text`). */
export interface Span {
  start: number;
  end: number;
}

const enum Kind {
  Space,
  /** A break may come before and after it (a two-column grapheme). */
  Wide,
  Narrow,
}

function kindOf(g: string): Kind {
  if (g === ' ' || g === '\t') return Kind.Space;
  return graphemeWidth(g) >= 2 ? Kind.Wide : Kind.Narrow;
}

/**
 * Lays `text` out in lines at most `width` columns wide, continuation lines starting at
 * column `indent` (callers keep `width - indent` at 2 or more, so any grapheme of normal
 * width fits). Only a single grapheme wider than the room can make a line wider.
 */
export function layout(text: string, width: number, indent: number): Span[] {
  const gs = graphemes(text);
  const spans: Span[] = [];
  let lineStart = 0; // offset where the current line starts
  let lineEnd = 0; // offset just past the last grapheme placed on it
  let col = 0; // column reached by the current line's placed graphemes
  let empty = true; // nothing placed on the current line yet
  let offset = 0;
  let i = 0;

  const newLine = (at: number): void => {
    spans.push({ start: lineStart, end: lineEnd });
    lineStart = lineEnd = at;
    col = indent;
    empty = true;
  };

  while (i < gs.length) {
    // A run of spaces, then a unit: one wide grapheme, or a word of narrow ones.
    const spacesFrom = i;
    while (i < gs.length && kindOf(gs[i] as string) === Kind.Space)
      offset += (gs[i++] as string).length;
    const unitAt = offset;
    const unitFrom = i;
    if (i < gs.length && kindOf(gs[i] as string) === Kind.Wide)
      offset += (gs[i++] as string).length;
    else {
      while (i < gs.length && kindOf(gs[i] as string) === Kind.Narrow) {
        offset += (gs[i++] as string).length;
      }
    }
    // Columns if the spaces and the unit go on this line, and the unit's own width.
    let withSpaces = col;
    for (let k = spacesFrom; k < unitFrom; k++) withSpaces = advance(gs[k] as string, withSpaces);
    let unitWidth = 0;
    for (let k = unitFrom; k < i; k++) unitWidth = advance(gs[k] as string, unitWidth);
    const end = withSpaces + unitWidth;

    if (unitFrom === i) {
      // Trailing spaces: kept if they fit, dropped at the margin otherwise.
      if (withSpaces <= width) lineEnd = unitAt;
      break;
    }
    if (end <= width) {
      col = end;
      lineEnd = offset;
      empty = false;
      continue;
    }
    // Does not fit after the spaces. A unit that fits a fresh line goes there whole.
    if (indent + unitWidth <= width) {
      if (empty) {
        // Nothing to break after (leading spaces pushed it over): drop the spaces instead.
        col += unitWidth;
        lineStart = unitAt;
      } else {
        newLine(unitAt);
        col += unitWidth;
      }
      lineEnd = offset;
      empty = false;
      continue;
    }
    // A word longer than a whole line: it starts after the spaces if its first grapheme
    // fits there, then breaks between graphemes wherever the margin comes.
    if (withSpaces + graphemeWidth(gs[unitFrom] as string) <= width) col = withSpaces;
    else if (empty)
      lineStart = unitAt; // drop leading spaces that leave no room
    else newLine(unitAt);
    let at = unitAt;
    for (let k = unitFrom; k < i; k++) {
      const g = gs[k] as string;
      let next = advance(g, col);
      if (next > width && !empty) {
        newLine(at);
        next = advance(g, col);
      }
      // On an empty line a grapheme goes in even if wider than the room: it cannot be split.
      col = next;
      at += g.length;
      lineEnd = at;
      empty = false;
    }
  }
  spans.push({ start: lineStart, end: lineEnd });
  return spans;
}

/**
 * `text` wrapped to `width` columns: the lines joined with CR LF, continuation lines
 * indented by `indent` spaces. Text that fits is returned as it is.
 */
export function wrap(text: string, width: number, indent: number): string {
  if (displayWidth(text) <= width) return text;
  const pad = ' '.repeat(indent);
  return layout(text, width, indent)
    .map((s, n) => (n === 0 ? '' : pad) + text.slice(s.start, s.end))
    .join('\r\n');
}
