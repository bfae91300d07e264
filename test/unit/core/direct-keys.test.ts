/**
 * Private conversation keys (core/direct-keys.ts): who a key belongs to, read back from
 * it, and the merge of two conversations' pages into one.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { directKey, guestDirectKey, mergePages, peerOfKey } from '../../../src/core/direct-keys.js';
import type { HistoryEntry } from '../../../src/core/events.js';
import { fold, nameProblem } from '../../../src/core/names.js';
import { pageOf } from '../../../src/store/history-page.js';

/** Any name the server lets someone have (names.ts), in any case. */
const name = fc
  .stringMatching(/^[A-Za-z_[\]\\`^{|}][A-Za-z0-9_[\]\\`^{|}-]{0,15}$/)
  .filter((n) => nameProblem(n, 30) === null);

describe('peerOfKey', () => {
  test('property: a conversation of two accounts is both of theirs, and no one else’s', () => {
    fc.assert(
      fc.property(name, name, name, (a, b, c) => {
        const key = directKey(a, b);
        expect(key).toBe(directKey(b, a));
        expect(peerOfKey(key, fold(a))).toEqual({ name: fold(b), guest: false });
        expect(peerOfKey(key, fold(b))).toEqual({ name: fold(a), guest: false });
        if (fold(c) !== fold(a) && fold(c) !== fold(b)) expect(peerOfKey(key, fold(c))).toBeNull();
      }),
    );
  });

  test('property: a conversation with a guest is the account’s alone, never the guest name’s', () => {
    fc.assert(
      fc.property(name, name, (account, guest) => {
        const key = guestDirectKey(account, guest);
        expect(peerOfKey(key, fold(account))).toEqual({ name: fold(guest), guest: true });
        // Whoever has the guest's name later, even as an account, is not a side of it.
        if (fold(guest) !== fold(account)) expect(peerOfKey(key, fold(guest))).toBeNull();
        // A key of one kind is never the other's.
        expect(key).not.toBe(directKey(account, guest));
      }),
    );
  });

  test('rooms and malformed keys belong to no one', () => {
    for (const key of ['#room', '@', '@ann', 'ann ben', ''])
      expect(peerOfKey(key, 'ann')).toBeNull();
  });
});

describe('mergePages', () => {
  const entry = (id: bigint, room: string): HistoryEntry => ({
    id: String(id),
    ts: Number(id / 1_000_000n),
    room,
    from: 'x',
    mask: 'x!x@x',
    text: String(id),
    kind: 'say',
  });

  test('property: merging each conversation’s page gives the page of both together', () => {
    const ids = fc.uniqueArray(fc.bigInt({ min: 1n, max: (1n << 63n) - 1n }), { maxLength: 30 });
    fc.assert(
      fc.property(
        ids,
        fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
        fc.record({
          limit: fc.integer({ min: 0, max: 12 }),
          before: fc.option(fc.bigInt({ min: 1n, max: (1n << 63n) - 1n }), { nil: undefined }),
          after: fc.option(fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }), { nil: undefined }),
          keep: fc.constantFrom('oldest', 'newest', undefined),
        }),
        (idList, side, r) => {
          const sorted = [...idList].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
          const all = sorted.map((id, i) => entry(id, side[i] ? 'a' : 'b'));
          const range = {
            limit: r.limit,
            ...(r.before !== undefined ? { before: String(r.before) } : {}),
            ...(r.after !== undefined ? { after: String(r.after) } : {}),
            ...(r.keep !== undefined ? { keep: r.keep } : {}),
          } as const;
          const pages = ['a', 'b'].map((room) =>
            pageOf(
              all.filter((e) => e.room === room),
              { ...range, room },
            ),
          );
          expect(mergePages(pages, range)).toEqual(pageOf(all, { ...range, room: '' }));
        },
      ),
    );
  });
});
