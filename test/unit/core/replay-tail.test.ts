/**
 * A replay merges the store's page with what the room's stream had before the join
 * (core/replay-tail.ts): the union, each id once, oldest first, the store's copy kept.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import type { HistoryEntry } from '../../../src/core/events.js';
import { mergeById } from '../../../src/core/replay-tail.js';

const entry = (id: bigint, from: string): HistoryEntry => ({
  id: id.toString(),
  ts: Number(id / 1_000_000n),
  room: '#r',
  from,
  mask: `${from}!u@h`,
  text: `t${id}`,
  kind: 'say',
});

/** Sorted, distinct 64-bit ids, as a page or a tail has them. */
const ids = fc
  .uniqueArray(fc.bigInt({ min: 1n, max: (1n << 63n) - 1n }), { maxLength: 40 })
  .map((a) => a.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));

test('mergeById: the union of both, each id once, in id order, the first list winning', () => {
  fc.assert(
    fc.property(ids, ids, (a, b) => {
      const merged = mergeById(
        a.map((id) => entry(id, 'store')),
        b.map((id) => entry(id, 'stream')),
      );
      const union = [...new Set([...a, ...b])].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      expect(merged.map((e) => BigInt(e.id))).toEqual(union);
      const inStore = new Set(a);
      for (const e of merged) expect(e.from).toBe(inStore.has(BigInt(e.id)) ? 'store' : 'stream');
    }),
  );
});
