/**
 * The search contract every Store keeps (ports.ts `search`): every word required, word
 * prefixes, case folded, newest first, only the rooms (and the account's private
 * conversations) asked for, pages that join up with no gap and no repeat, a bounded scan
 * that says where to go on, and no query words can make it throw.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { ChatError } from '../../src/core/errors.js';
import type { HistoryEntry } from '../../src/core/events.js';
import { MessageIds } from '../../src/core/ids.js';
import { directKey } from '../../src/core/messaging.js';
import type { SearchQuery, Store } from '../../src/core/ports.js';
import { searchTerms } from '../../src/core/search-terms.js';

// Real ids (19 digits, past 2^53): a store that reads them as JavaScript numbers loses them.
const ids = new MessageIds(7);

function entry(room: string, text: string, from = 'alice'): HistoryEntry {
  const ts = Date.now();
  return { id: ids.next(ts), ts, room, from, mask: `${from}!${from}@127.0.0.1`, text, kind: 'say' };
}

const unique = (p: string) => `#${p}${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
const terms = (text: string) => searchTerms(text, { maxBytes: 200, maxTerms: 8 });

function query(q: Partial<SearchQuery> & { terms: string[] }): SearchQuery {
  return { rooms: [], account: null, limit: 50, scan: 2000, ...q };
}

/** Every page from the newest on, following `next`. */
async function allPages(store: Store, q: SearchQuery): Promise<HistoryEntry[][]> {
  const pages: HistoryEntry[][] = [];
  let before: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await store.search({ ...q, ...(before !== undefined ? { before } : {}) });
    pages.push(page.entries);
    if (page.next === null) return pages;
    before = page.next;
  }
  throw new Error('search pages did not end');
}

export function searchContract(name: string, open: () => Promise<Store>): void {
  test(`${name}: search finds every word, by prefix, any case, newest first, in the rooms asked`, async () => {
    const store = await open();
    const room = unique('s');
    const other = unique('o');
    const written = [
      entry(room, 'Deploying the release now'),
      entry(room, 'the deploy finished fine'),
      entry(room, 'unrelated chatter'),
      entry(other, 'deploy in another room'),
      entry(room, 'DEPLOY again, release two'),
      entry(room, 'Grüße aus Köln: 你好 世界'),
    ];
    for (const e of written) void store.appendMessage(e);
    const found = await store.search(
      query({ terms: terms('deploy'), rooms: [room.toUpperCase()] }),
    );
    expect(found.entries.map((e) => e.text)).toEqual([
      'DEPLOY again, release two',
      'the deploy finished fine',
      'Deploying the release now',
    ]);
    expect(found.next).toBeNull();
    // The entry as written, its 19-digit id intact.
    expect(found.entries[0]).toEqual(written[4]);
    const both = await store.search(query({ terms: terms('release DEPLOY'), rooms: [room] }));
    expect(both.entries.map((e) => e.id)).toEqual([written[4]!.id, written[0]!.id]);
    const two = await store.search(query({ terms: terms('deploy'), rooms: [room, other] }));
    expect(two.entries.map((e) => e.id)).toEqual([4, 3, 1, 0].map((i) => written[i]!.id));
    expect(
      (await store.search(query({ terms: terms('köln 你好'), rooms: [room] }))).entries,
    ).toEqual([written[5]]);
    expect(await store.search(query({ terms: terms('nothing-like-it'), rooms: [room] }))).toEqual({
      entries: [],
      next: null,
    });
    // One character is a whole word, not a prefix of every word starting with it.
    expect((await store.search(query({ terms: terms('d'), rooms: [room] }))).entries).toEqual([]);
    expect((await store.search(query({ terms: terms('deploy'), rooms: [] }))).entries).toEqual([]);
    await store.close();
  });

  test(`${name}: search pages newest first with no gap and no repeat; before and next join up`, async () => {
    const store = await open();
    const room = unique('p');
    const noise = unique('n');
    const written: HistoryEntry[] = [];
    for (let i = 0; i < 23; i++) {
      const e = entry(room, `needle number ${i}`);
      written.push(e);
      void store.appendMessage(e);
      void store.appendMessage(entry(room, `hay ${i}`));
      void store.appendMessage(entry(noise, `needle elsewhere ${i}`));
    }
    const pages = await allPages(store, query({ terms: terms('needle'), rooms: [room], limit: 5 }));
    expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
    expect(pages.flat().map((e) => e.id)).toEqual(written.map((e) => e.id).reverse());
    const older = await store.search(
      query({ terms: terms('needle'), rooms: [room], limit: 50, before: written[3]!.id }),
    );
    expect(older.entries.map((e) => e.text)).toEqual([
      'needle number 2',
      'needle number 1',
      'needle number 0',
    ]);
    // A bounded scan: most matches are in a room not asked for, so a page can come back
    // short, or empty, and still say where to go on; following it finds them all.
    const bounded = await allPages(
      store,
      query({ terms: terms('needle'), rooms: [room], limit: 50, scan: 10 }),
    );
    expect(bounded.length).toBeGreaterThan(2);
    expect(bounded.flat().map((e) => e.id)).toEqual(written.map((e) => e.id).reverse());
    await store.close();
  });

  test(`${name}: search covers an account's own private conversations, and nobody else's`, async () => {
    const store = await open();
    const tag = Math.random().toString(36).slice(2, 8);
    const [alice, bob, carol] = [`Alice${tag}`, `bob${tag}`, `carol${tag}`];
    const ab = entry(directKey(alice, bob), 'secret plan for friday', alice);
    const ba = entry(directKey(bob, alice), 'friday works', bob);
    const bc = entry(directKey(bob, carol), 'friday without alice', bob);
    for (const e of [ab, ba, bc]) await store.appendMessage(e);
    const mine = await store.search(
      query({ terms: terms('friday'), account: alice.toLowerCase() }),
    );
    expect(mine.entries.map((e) => e.text)).toEqual(['friday works', 'secret plan for friday']);
    const bobs = await store.search(query({ terms: terms('friday'), account: bob }));
    expect(bobs.entries).toHaveLength(3);
    const carols = await store.search(query({ terms: terms('friday'), account: carol }));
    expect(carols.entries.map((e) => e.text)).toEqual(['friday without alice']);
    // A name that is only part of an account's name is not that account.
    const part = await store.search(query({ terms: terms('friday'), account: tag }));
    expect(part.entries).toEqual([]);
    await store.close();
  });

  test(`${name}: no query words make search throw; only bad_query, and only for no words or too many`, async () => {
    const store = await open();
    const room = unique('f');
    for (const t of ['fuzz "quoted" text', 'NEAR(a b) AND OR NOT * ^ :', "it's a \\ back'slash"]) {
      await store.appendMessage(entry(room, t));
    }
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.string({ unit: 'grapheme', maxLength: 30 }),
          // Any code point, lone surrogates too.
          fc.string({ unit: fc.nat(0x10ffff).map((c) => String.fromCodePoint(c)), maxLength: 30 }),
          fc
            .array(
              fc.constantFrom(
                '"',
                "'",
                '*',
                '(',
                ')',
                'NEAR',
                'AND',
                'OR',
                'NOT',
                ':',
                '^',
                '-',
                '&',
                '|',
                '!',
                '<->',
                '\\',
                'a',
                'fuzz',
                'ü',
                '本',
                '\u0301',
                ' ',
              ),
            )
            .map((parts) => parts.join('')),
        ),
        async (text) => {
          let words: string[];
          try {
            words = terms(text);
          } catch (err) {
            expect(err).toBeInstanceOf(ChatError);
            expect((err as ChatError).code).toBe('bad_query');
            return;
          }
          const page = await store.search(query({ terms: words, rooms: [room], limit: 10 }));
          expect(Array.isArray(page.entries)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
    expect(
      (await store.search(query({ terms: terms('"quoted'), rooms: [room] }))).entries,
    ).toHaveLength(1);
    expect(
      (await store.search(query({ terms: terms('NEAR(a'), rooms: [room] }))).entries,
    ).toHaveLength(1);
    await store.close();
  });
}
