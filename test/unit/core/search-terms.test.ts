/**
 * The search words (core/search-terms.ts) and the page cut every store shares
 * (store/search-page.ts): what any typed text becomes, and pages that join up.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ChatError } from '../../../src/core/errors.js';
import { directKey } from '../../../src/core/messaging.js';
import type { SearchQuery } from '../../../src/core/ports.js';
import { foldWord, searchTerms, textMatches } from '../../../src/core/search-terms.js';
import { cutPage, isDirectKeyOf, type Match } from '../../../src/store/search-page.js';

const limits = { maxBytes: 200, maxTerms: 8 };
const anyText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: fc.nat(0x10ffff).map((c) => String.fromCodePoint(c)), maxLength: 40 }),
);

describe('searchTerms', () => {
  test('any text: distinct lower-case words of letters and digits only, or bad_query', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        let terms: string[];
        try {
          terms = searchTerms(text, limits);
        } catch (err) {
          expect(err).toBeInstanceOf(ChatError);
          expect((err as ChatError).code).toBe('bad_query');
          return;
        }
        expect(terms.length).toBeGreaterThan(0);
        expect(terms.length).toBeLessThanOrEqual(limits.maxTerms);
        expect(new Set(terms).size).toBe(terms.length);
        for (const t of terms) {
          expect(t).toMatch(/^[\p{L}\p{N}\p{Co}]+$/u);
          expect(t).toBe(t.toLowerCase());
        }
      }),
      { numRuns: 500 },
    );
  });

  test('operators and quotes are separators, never syntax', () => {
    expect(searchTerms('"deploy" AND NOT (fail*) NEAR/3 col:y', limits)).toEqual([
      'deploy',
      'and',
      'not',
      'fail',
      'near',
      '3',
      'col',
      'y',
    ]);
    expect(searchTerms("it's Grüße 你好世界 ①", limits)).toEqual([
      'it',
      's',
      'grüße',
      '你好世界',
      '①',
    ]);
  });

  test('no words, too long, too many: a reason each', () => {
    const code = (text: string) => {
      try {
        searchTerms(text, limits);
        return 'ok';
      } catch (err) {
        return `${(err as ChatError).code}: ${(err as ChatError).message}`;
      }
    };
    expect(code('')).toBe(
      'bad_query: Nothing to search for: give at least one word (letters or digits)',
    );
    expect(code('🎉 -- "" ***')).toMatch(/^bad_query: Nothing to search for/);
    expect(code('x'.repeat(201))).toBe('bad_query: A search is at most 200 bytes; use fewer words');
    expect(code('a b c d e f g h i')).toBe(
      'bad_query: A search has at most 8 different words (got 9)',
    );
    expect(code('a a a a a a a a a b')).toBe('ok');
  });

  test('the memory match: every term begins a word; one character is a whole word', () => {
    expect(textMatches('Deployed to Köln', ['deploy', 'koln'])).toBe(true);
    expect(textMatches('Deployed to Köln', ['deploy', 'paris'])).toBe(false);
    expect(textMatches('build 30 done', ['3'])).toBe(false);
    expect(textMatches('build 3 done', ['3'])).toBe(true);
    expect(foldWord('ÉCOLE')).toBe('ecole');
  });
});

describe('cutPage', () => {
  const q = (limit: number, scan: number, rooms: string[]): SearchQuery => ({
    terms: ['x'],
    rooms,
    account: 'ann',
    limit,
    scan,
  });

  test('following next over any matches gives the visible ones, newest first, once each', () => {
    const room = fc.constantFrom(
      '#a',
      '#b',
      '#c',
      directKey('ann', 'ben'),
      directKey('ben', 'cat'),
    );
    fc.assert(
      fc.property(
        fc.array(room, { maxLength: 60 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 9 }),
        (rooms, limit, scan) => {
          // Matches newest first: ids counting down.
          const all: Match[] = rooms.map((r, i) => ({ id: String(1000 - i), roomKey: r }));
          const query = q(limit, scan, ['#A', '#c']);
          const visible = all.filter((m) =>
            ['#a', '#c', directKey('ann', 'ben')].includes(m.roomKey),
          );
          const shown: string[] = [];
          let before = Infinity;
          for (let pages = 0; pages <= all.length + 1; pages++) {
            // What an index gives: matches older than `before`, at most `scan`.
            const window = all.filter((m) => Number(m.id) < before).slice(0, scan);
            const { ids, next } = cutPage(window, query);
            expect(ids.length).toBeLessThanOrEqual(limit);
            shown.push(...ids);
            if (next === null) break;
            expect(Number(next)).toBeLessThan(before);
            before = Number(next);
          }
          expect(shown).toEqual(visible.map((m) => m.id));
        },
      ),
      { numRuns: 300 },
    );
  });

  test("a private conversation is one's own only when one is a whole side of it", () => {
    expect(isDirectKeyOf(directKey('Ann', 'ben'), 'ann')).toBe(true);
    expect(isDirectKeyOf(directKey('ben', 'ann'), 'ann')).toBe(true);
    expect(isDirectKeyOf(directKey('anna', 'ben'), 'ann')).toBe(false);
    expect(isDirectKeyOf('#ann', 'ann')).toBe(false);
  });
});
