/**
 * Kept events' columns (store/event-data.ts): every detail round-trips through
 * encodeDetail/decodeDetail, and any kind and data, however damaged, decode to null or a
 * well-typed detail, never an exception.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { EventDetail } from '../../src/core/events.js';
import { ROOM_FLAGS, type RoomChange } from '../../src/core/room-changes.js';
import { decodeDetail, encodeDetail, EVENT_KINDS } from '../../src/store/event-data.js';

const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const stamp = fc.option(fc.integer({ min: 0, max: 2 ** 45 }), { nil: null });
const tagKey = fc
  .tuple(
    fc.option(fc.stringMatching(/^[A-Za-z0-9.-]{1,8}$/), { nil: undefined }),
    fc.stringMatching(/^[A-Za-z0-9-]{1,10}$/),
  )
  .map(([vendor, name]) => `+${vendor ? `${vendor}/` : ''}${name}`);
// Values a client's tag can keep: no controls (the cleaning rule takes them out).
const tagValue = fc.string({ maxLength: 20 }).map((s) => s.replace(/[\p{Cc}\u2028\u2029]/gu, ''));

const change: fc.Arbitrary<RoomChange> = fc.oneof(
  fc.record({
    kind: fc.constant('flag' as const),
    flag: fc.constantFrom(...ROOM_FLAGS),
    on: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('key' as const), key: fc.option(text, { nil: null }) }),
  fc.record({ kind: fc.constant('limit' as const), limit: fc.integer({ min: 0, max: 1e6 }) }),
  fc.record({
    kind: fc.constant('role' as const),
    role: fc.constantFrom('op' as const, 'voice' as const),
    name: text,
    on: fc.boolean(),
  }),
  fc.record(
    {
      kind: fc.constant('ban' as const),
      mask: text,
      on: fc.boolean(),
      reason: text,
      expiresAt: stamp,
    },
    { requiredKeys: ['kind', 'mask', 'on'] },
  ),
  fc.record({ kind: fc.constant('mute' as const), name: text, until: stamp, on: fc.boolean() }),
  fc.record({ kind: fc.constant('owner' as const), account: fc.option(text, { nil: null }) }),
);

const detail: fc.Arbitrary<EventDetail> = fc.oneof(
  fc.record({
    kind: fc.constant('join' as const),
    account: fc.option(text, { nil: null }),
    realname: text,
  }),
  fc.record({ kind: fc.constantFrom('part' as const, 'quit' as const), reason: text }),
  fc.record({ kind: fc.constant('kick' as const), name: text, reason: text }),
  fc.record({ kind: fc.constant('topic' as const), topic: text }),
  fc.record({ kind: fc.constant('nick' as const), newName: text }),
  fc.record({ kind: fc.constant('mode' as const), changes: fc.array(change, { maxLength: 5 }) }),
  fc.record({
    kind: fc.constant('tag' as const),
    tags: fc.dictionary(tagKey, tagValue, { minKeys: 1, maxKeys: 4 }),
  }),
);

describe('event details', () => {
  test('decode(encode(d)) is d, for every detail', () => {
    fc.assert(
      fc.property(detail, (d) => {
        const { kind, data } = encodeDetail(d);
        expect(kind).toBe(d.kind);
        expect(decodeDetail(kind, data)).toEqual(d);
      }),
    );
  });

  test('any kind and data: null or a detail of that kind, never an exception', () => {
    const kind = fc.oneof(fc.constantFrom(...EVENT_KINDS), fc.string());
    const data = fc.oneof(
      fc.string(),
      fc.json(),
      detail.map((d) => encodeDetail(d).data),
      // A real detail's data with one field replaced by anything.
      fc
        .tuple(detail, fc.string({ maxLength: 10 }), fc.jsonValue())
        .map(([d, k, v]) => JSON.stringify({ ...JSON.parse(encodeDetail(d).data), [k]: v })),
    );
    fc.assert(
      fc.property(kind, data, (k, dt) => {
        const out = decodeDetail(k, dt);
        if (out !== null) {
          expect(out.kind).toBe(k);
          // What decodes encodes again to the same detail.
          expect(decodeDetail(k, encodeDetail(out).data)).toEqual(out);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('tags are cleaned as a client sending them is: bad keys go, no line ends', () => {
    const out = decodeDetail('tag', JSON.stringify({ tags: { '+ok': 'a\r\nb', 'bad key': 'x' } }));
    expect(out).toEqual({ kind: 'tag', tags: { '+ok': 'ab' } });
    expect(decodeDetail('tag', JSON.stringify({ tags: { nope: 'x' } }))).toBeNull();
    expect(
      decodeDetail('mode', JSON.stringify({ changes: [{ kind: 'flag', flag: 'x', on: true }] })),
    ).toBeNull();
  });
});
