/**
 * The watch list on its own: names are folded, the limit refuses the rest in order,
 * removing and clearing leave no empty entries behind, and each session has its own list.
 */
import { expect, test } from 'vitest';
import { Session } from '../../../src/core/session.js';
import { Watchlist } from '../../../src/core/watchlist.js';
import { lineEncoder } from '../../../src/protocols/line/encoder.js';
import { MemoryConnection } from '../../helpers/memory-link.js';

let ids = 0;
const session = () =>
  new Session(`n1:${++ids}`, new MemoryConnection(), lineEncoder, '127.0.0.1', 0);

test('names are watched case-insensitively (CASEMAPPING=ascii) and kept as given', () => {
  const w = new Watchlist(() => 10);
  const s = session();
  expect(w.add(s, ['Bob', 'carol'])).toEqual({ added: ['Bob', 'carol'], refused: [] });
  // Already watched under another spelling: not added twice.
  expect(w.add(s, ['BOB'])).toEqual({ added: [], refused: [] });
  expect(w.list(s)).toEqual(['Bob', 'carol']);
  expect([...(w.watchers('bob') ?? [])]).toEqual([s]);
  expect(w.watchers('dave')).toBeUndefined();
});

test('past the limit the rest is refused, in order, and nothing of it is kept', () => {
  const w = new Watchlist(() => 2);
  const s = session();
  expect(w.add(s, ['a', 'b', 'c', 'd'])).toEqual({ added: ['a', 'b'], refused: ['c', 'd'] });
  expect(w.watchers('c')).toBeUndefined();
  w.remove(s, ['A']);
  expect(w.add(s, ['c'])).toEqual({ added: ['c'], refused: [] });
});

test('removing and clearing drop the session, and the name once nobody watches it', () => {
  const w = new Watchlist(() => 10);
  const s = session();
  const t = session();
  w.add(s, ['bob', 'carol']);
  w.add(t, ['bob']);
  w.remove(s, ['bob']);
  expect([...(w.watchers('bob') ?? [])]).toEqual([t]);
  w.clear(t);
  expect(w.watchers('bob')).toBeUndefined();
  expect(t.watching).toBeNull();
  expect(w.list(s)).toEqual(['carol']);
  w.clear(s);
  expect(w.watchers('carol')).toBeUndefined();
});
