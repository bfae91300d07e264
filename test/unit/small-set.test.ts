import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmallSet } from '../../src/core/small-set.js';

describe('SmallSet', () => {
  it('behaves like a Set for any sequence of adds and deletes', () => {
    const op = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 8 }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const small = new SmallSet<number>();
        const real = new Set<number>();
        for (const [add, n] of ops) {
          if (add) {
            small.add(n);
            real.add(n);
          } else {
            expect(small.delete(n)).toBe(real.delete(n));
          }
          expect(small.size).toBe(real.size);
          expect([...small]).toEqual([...real]);
          expect(small.first()).toBe([...real][0]);
          for (let i = 0; i <= 8; i++) expect(small.has(i)).toBe(real.has(i));
        }
      }),
    );
  });
});
