import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmallMap } from '../../src/core/small-map.js';

describe('SmallMap', () => {
  it('behaves like a Map for any sequence of sets and deletes', () => {
    const op = fc.tuple(
      fc.boolean(),
      fc.constantFrom('#a', '#b', '#c', '#d', '#e'),
      fc.integer({ min: 0, max: 99 }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const small = new SmallMap<string, number>();
        const real = new Map<string, number>();
        for (const [set, key, value] of ops) {
          if (set) {
            expect(small.set(key, value)).toBe(small);
            real.set(key, value);
          } else {
            expect(small.delete(key)).toBe(real.delete(key));
          }
          expect(small.size).toBe(real.size);
          expect([...small.entries()]).toEqual([...real.entries()]);
          for (const k of ['#a', '#b', '#c', '#d', '#e', '#z']) {
            expect(small.has(k)).toBe(real.has(k));
            expect(small.get(k)).toBe(real.get(k));
          }
        }
      }),
    );
  });
});
