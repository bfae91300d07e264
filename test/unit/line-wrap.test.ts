import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  MIN_WRAP_WIDTH,
  displayWidth,
  graphemes,
  layout,
  wrap,
} from '../../src/protocols/line/wrap.js';

const isSpace = (s: string) => /^[ \t]*$/.test(s);

/** The word (or the one wide grapheme) `s` starts with. */
function firstUnit(s: string): string {
  const gs = graphemes(s);
  if (gs.length > 0 && displayWidth(gs[0]!) >= 2) return gs[0]!;
  let out = '';
  for (const g of gs) {
    if (g === ' ' || g === '\t' || displayWidth(g) >= 2) break;
    out += g;
  }
  return out;
}

/** Text as people type it: words of Latin, CJK, kana, emoji, combining marks, spaces. */
const piece = fc.constantFrom(
  'hello',
  'world',
  'a',
  'supercalifragilistic',
  'x'.repeat(45),
  '日本語',
  '本',
  'ナダ',
  'カタカナのテキスト',
  '🎉',
  '👩‍👩‍👧',
  '🇯🇵',
  'e\u0301',
  'Å',
  'ü',
  '한국어',
  '中文句子很长没有空格',
  'ｶﾞ',
  '，',
  ' ',
  '  ',
  '\t',
  '🎉🎉🎉',
);
const text = fc.array(piece, { maxLength: 40 }).map((p) => p.join(''));
const anyText = fc.oneof(
  text,
  fc
    .string({ unit: 'grapheme', maxLength: 120 })
    .map((s) => s.replace(/[\x00-\x1f\x7f-\x9f]/g, '')),
);

describe('displayWidth', () => {
  test('CJK and emoji are two columns, combining marks none, ASCII one', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('日本')).toBe(4);
    expect(displayWidth('ナダ')).toBe(4);
    expect(displayWidth('🎉')).toBe(2);
    expect(displayWidth('👩‍👩‍👧')).toBe(2); // one ZWJ sequence
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('a\tb')).toBe(9); // TAB to the next stop of 8
    expect(displayWidth('\tb', 3)).toBe(6);
  });
});

describe('wrap', () => {
  test('a message wraps under its text', () => {
    const line = '[12:00] <alice> the quick brown fox jumps over the lazy dog again and again';
    expect(wrap(line, 40, 16).split('\r\n')).toEqual([
      '[12:00] <alice> the quick brown fox',
      '                jumps over the lazy dog',
      '                again and again',
    ]);
  });

  test('CJK breaks between characters, never inside one, counting two columns each', () => {
    const line = '[12:00] <bob> ' + '日本語のテキストはスペースがない';
    const lines = wrap(line, 30, 14).split('\r\n');
    expect(lines).toEqual(['[12:00] <bob> 日本語のテキスト', '              はスペースがない']);
    for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(30);
  });

  test('a word longer than a line is cut between graphemes', () => {
    expect(wrap('* ' + 'x'.repeat(50), 20, 2).split('\r\n')).toEqual([
      '* ' + 'x'.repeat(18),
      '  ' + 'x'.repeat(18),
      '  ' + 'x'.repeat(14),
    ]);
  });

  test('text that fits is left alone', () => {
    expect(wrap('short line', 20, 2)).toBe('short line');
  });

  test('properties: no line too wide, nothing lost or reordered, no grapheme split', () => {
    fc.assert(
      fc.property(
        anyText,
        fc.integer({ min: MIN_WRAP_WIDTH, max: 200 }),
        fc.integer({ min: 0, max: 100 }),
        (t, width, hangRaw) => {
          const indent = Math.min(hangRaw, Math.floor(width / 2));
          const spans = layout(t, width, indent);
          const bounds = new Set<number>();
          let at = 0;
          for (const g of graphemes(t)) bounds.add((at += g.length));
          bounds.add(0);
          let prev = 0;
          spans.forEach((s, n) => {
            // In order, with only spaces between lines, cut at grapheme boundaries.
            expect(s.start).toBeGreaterThanOrEqual(prev);
            expect(s.end).toBeGreaterThanOrEqual(s.start);
            expect(isSpace(t.slice(prev, s.start))).toBe(true);
            expect(bounds.has(s.start) && bounds.has(s.end)).toBe(true);
            const col = n === 0 ? 0 : indent;
            const w = displayWidth(t.slice(s.start, s.end), col);
            // Wider only when the line is one grapheme that cannot fit anywhere.
            if (col + w > width) expect(graphemes(t.slice(s.start, s.end)).length).toBe(1);
            prev = s.end;
          });
          expect(isSpace(t.slice(prev))).toBe(true);
          // Every non-space character is kept, in order.
          const kept = spans.map((s) => t.slice(s.start, s.end)).join('');
          expect(kept.replace(/[ \t]/g, '')).toBe(t.replace(/[ \t]/g, ''));
          // wrap() is the same layout, indented.
          const out = wrap(t, width, indent).split('\r\n');
          if (displayWidth(t) > width) {
            expect(out.length).toBe(spans.length);
            out.slice(1).forEach((l) => expect(l.startsWith(' '.repeat(indent))).toBe(true));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test('a line breaks only where it must: the next word would not have fitted', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: MIN_WRAP_WIDTH, max: 120 }), (t, width) => {
        const spans = layout(t, width, 4);
        for (let n = 0; n + 1 < spans.length; n++) {
          const cur = spans[n]!;
          const next = spans[n + 1]!;
          const col = n === 0 ? 0 : 4;
          // The next line's first word (or wide grapheme), placed after this line's text
          // and the gap, would have passed the margin.
          const joined = t.slice(cur.start, next.start) + firstUnit(t.slice(next.start));
          expect(col + displayWidth(joined, col)).toBeGreaterThan(width);
        }
      }),
      { numRuns: 500 },
    );
  });
});
