/**
 * CHATHISTORY and MARKREAD parameters (protocols/irc/chathistory-request.ts,
 * handlers/read-marker.ts): arbitrary input never throws, and what parses means what it
 * says (timestamps round-trip, id bounds are exclusive, BETWEEN counts from its first
 * reference).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  idRanges,
  parseChathistory,
  parseMsgRef,
  parseTimestamp,
} from '../../src/protocols/irc/chathistory-request.js';
import { parseMarkread } from '../../src/protocols/irc/handlers/read-marker.js';
import { markerAt, markerTime } from '../../src/core/read-markers.js';

const SUBS = ['LATEST', 'BEFORE', 'AFTER', 'AROUND', 'BETWEEN', 'TARGETS', 'latest', 'x'];
/** Parameters: often well-formed, often nearly so, sometimes anything. */
const param = fc.oneof(
  fc.string(),
  fc.constantFrom('*', 'msgid=', 'timestamp=', '#room', 'nick', '0', '-1', '10', '99999999999'),
  fc.bigInt({ min: -10n, max: 1n << 70n }).map((n) => `msgid=${n}`),
  fc.date({ noInvalidDate: true }).map((d) => `timestamp=${d.toISOString()}`),
  fc.string().map((s) => `timestamp=${s}`),
  fc.string().map((s) => `msgid=${s}`),
);

describe('parseChathistory', () => {
  test('never throws, and every answer is a request or a FAIL code with text', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SUBS), fc.array(param, { maxLength: 6 }), (sub, rest) => {
        const parsed = parseChathistory([sub, ...rest], 100);
        if (parsed.ok) {
          expect(parsed.request.limit).toBeGreaterThanOrEqual(1);
          expect(parsed.request.limit).toBeLessThanOrEqual(100);
          if (parsed.request.sub !== 'TARGETS') {
            for (const q of idRanges(parsed.request)) {
              expect(q.limit).toBeGreaterThan(0);
              // Bounds are ids a store can compare (an empty range simply finds nothing).
              for (const b of [q.range.before, q.range.after]) {
                if (b !== undefined) expect(b).toMatch(/^-?\d+$/);
              }
            }
          }
        } else {
          expect(['INVALID_PARAMS', 'NEED_MORE_PARAMS']).toContain(parsed.code);
          expect(parsed.text.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('arbitrary strings as every parameter never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 7 }), (params) => {
        parseChathistory(params, 50);
        for (const p of params) {
          parseMsgRef(p);
          parseTimestamp(p);
          parseMarkread(p);
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('BETWEEN counts from the first reference: forward keeps the oldest, backward the newest', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 1n << 62n }),
        fc.bigInt({ min: 1n, max: 1n << 62n }),
        (a, b) => {
          fc.pre(a !== b);
          const parsed = parseChathistory(['BETWEEN', '#r', `msgid=${a}`, `msgid=${b}`, '5'], 10);
          expect(parsed.ok).toBe(true);
          if (!parsed.ok || parsed.request.sub === 'TARGETS') return;
          const [q] = idRanges(parsed.request);
          const [lo, hi] = a < b ? [a, b] : [b, a];
          expect(q?.range).toEqual({
            keep: a < b ? 'oldest' : 'newest',
            after: String(lo),
            before: String(hi),
          });
        },
      ),
    );
  });
});

describe('timestamps', () => {
  test('every ISO time of server-time parses back to its millisecond', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date(0), max: new Date('2261-12-31T00:00:00Z'), noInvalidDate: true }),
        (d) => {
          expect(parseTimestamp(d.toISOString())).toBe(d.getTime());
          // A marker set at a time reads back as that time.
          const marker = parseMarkread(`timestamp=${d.toISOString()}`) as string;
          expect(marker).toBe(markerAt(d.getTime()));
          expect(markerTime(marker)).toBe(d.getTime());
        },
      ),
    );
  });

  test('dates that are not dates, and other formats, are refused', () => {
    for (const t of [
      '2020-02-30T00:00:00.000Z',
      '2020-13-01T00:00:00Z',
      '2020-01-01T24:00:00Z',
      '2020-01-01 00:00:00Z',
      '2020-01-01T00:00:00+01:00',
      '1577836800',
      '',
      '*',
    ]) {
      expect(parseTimestamp(t), t).toBeNull();
    }
    expect(parseMarkread('*')).toBeNull();
    expect(parseMarkread('timestamp=not-a-timestamp')).toBeNull();
  });

  test('a timestamp bound excludes the messages of its own millisecond', () => {
    const parsed = parseChathistory(['AFTER', '#r', 'timestamp=2020-01-01T00:00:00.005Z', '5'], 9);
    if (!parsed.ok || parsed.request.sub === 'TARGETS') throw new Error('did not parse');
    const ms = BigInt(Date.UTC(2020, 0, 1, 0, 0, 0, 5));
    expect(idRanges(parsed.request)[0]?.range.after).toBe(String(ms * 1_000_000n + 999_999n));
  });
});
