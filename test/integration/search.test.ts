/**
 * Search over real sockets, on the default store (SQLite, its FTS5 index): the line
 * protocol's `/search` and `/more` as an nc user sees them, the JSON `search` request on
 * the framed protocol and WebSocket (pages joined by `next`), private messages of
 * identified accounts (one's own only), and the clear refusal of a search with no words.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { portOf, startTestServer } from '../helpers/server.js';
import { FramedPeer, LinePeer, WsPeer, type Json } from './hostile/peers.js';

let server: RunningServer;
let talker: FramedPeer;

beforeAll(async () => {
  server = await startTestServer([
    '--store',
    'sqlite',
    '--framed-port',
    '0',
    '--http-port',
    '0',
    '--flood-rate',
    '0',
    '--history-on-join',
    '0',
    '--search-page',
    '4',
    '--oper',
    'boss:sesame',
  ]);
  talker = await FramedPeer.hello(portOf(server, 'framed'), 'talker');
  for (const room of ['#ops', '#dev']) {
    expect((await talker.request({ type: 'join', room })).type).toBe('joined');
  }
  // Ten deploy lines across two rooms, interleaved with others, oldest first.
  for (let i = 0; i < 10; i++) {
    const room = i % 2 === 0 ? '#ops' : '#dev';
    await talker.request({ type: 'say', room, text: `Deployed build ${i} to production` });
    await talker.request({ type: 'say', room, text: `coffee break ${i}` });
  }
  await talker.request({ type: 'me', room: '#ops', text: 'redeploys the déploiement' });
});

afterAll(async () => {
  talker?.close();
  await server?.close();
});

type Hit = { id: string; room?: string; with?: string; from: string; text: string };
const hits = (m: Json) => m.messages as Hit[];

test('line: /search prints matches as history lines, newest first; /more pages; nothing found is said', async () => {
  const nc = await LinePeer.named(portOf(server, 'line'), 'reader');
  nc.send('/join #ops');
  await nc.line(/^\* You joined #ops/);
  nc.send('/join #dev');
  await nc.line(/^\* You joined #dev/);
  nc.skip();
  nc.send('/search deploy production');
  await nc.line(/^\* 4 messages for "deploy production" in your rooms, newest first:$/);
  const page1 = [
    await nc.line(/^\[/),
    await nc.line(/^\[/),
    await nc.line(/^\[/),
    await nc.line(/^\[/),
  ];
  expect(page1.map((l) => l.replace(/^\[\d{4}-\d\d-\d\d \d\d:\d\d\] /, ''))).toEqual([
    '#dev <talker> Deployed build 9 to production',
    '#ops <talker> Deployed build 8 to production',
    '#dev <talker> Deployed build 7 to production',
    '#ops <talker> Deployed build 6 to production',
  ]);
  await nc.line(/^\* More: \/more for older matches$/);
  const seen: string[] = [];
  for (let page = 0; page < 5; page++) {
    nc.send('/more');
    const head = await nc.line(/^\* (\d+ messages? further back|No search|Nothing found)/);
    if (!/further back/.test(head)) break;
    const n = Number(/^\* (\d+)/.exec(head)?.[1]);
    for (let i = 0; i < n; i++) seen.push(await nc.line(/^\[/));
    if (/No more matches/.test(await nc.line(/^\* (More|No more matches)/))) break;
  }
  expect(seen.map((l) => /build (\d)/.exec(l)?.[1])).toEqual(['5', '4', '3', '2', '1', '0']);
  nc.send('/more');
  await nc.line(/^! No search to continue: \/search TEXT first$/);
  // One room; an action shows as one; case and accents folded.
  nc.send('/search #ops DEPLOIEMENT');
  await nc.line(/^\* 1 message for "deploiement" in #ops, newest first:$/);
  expect(await nc.line(/^\[/)).toMatch(/\] #ops \* talker redeploys the déploiement$/);
  await nc.line(/^\* No more matches$/);
  nc.send('/search zebra');
  await nc.line(/^\* Nothing found for "zebra" in your rooms$/);
  // No words (punctuation only), and a room one is not in: told why, nothing else.
  nc.send('/search "*-- ()');
  await nc.line(/^! Nothing to search for: give at least one word \(letters or digits\)$/);
  nc.send('/search #nowhere deploy');
  await nc.line(/^! No such room: #nowhere$/);
  nc.send('/search');
  await nc.line(/^! usage: \/search \[ROOM\] TEXT$/);
  nc.close();
});

test('framed and WebSocket: search pages with next/before, newest first, no gap, no repeat', async () => {
  const f = await FramedPeer.hello(portOf(server, 'framed'), 'fsearch');
  const w = await WsPeer.hello(portOf(server, 'http'), 'wsearch');
  for (const p of [f, w]) {
    for (const room of ['#ops', '#dev']) await p.request({ type: 'join', room });
    const ids: string[] = [];
    let before: string | undefined;
    for (let i = 0; i < 10; i++) {
      const r = await p.request({ type: 'search', q: 'deployed', ...(before ? { before } : {}) });
      expect(r).toMatchObject({ type: 'search', q: 'deployed', terms: ['deployed'] });
      ids.push(...hits(r).map((h) => h.id));
      if (r.next === null) break;
      before = r.next as string;
    }
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
    expect([...ids].sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : -1))).toEqual(ids);
    const newest = await p.request({ type: 'search', q: 'deployed', room: '#dev', limit: 1 });
    expect(newest).toMatchObject({ type: 'search', room: '#dev', next: expect.any(String) });
    expect(hits(newest).map((h) => h.text)).toEqual(['Deployed build 9 to production']);
    // A one-character word is a whole word: "3", not "30" or "3rd".
    const one = await p.request({ type: 'search', q: 'build 3', room: '#DEV' });
    expect(one).toMatchObject({ type: 'search', room: '#dev', next: null });
    expect(hits(one)).toEqual([
      {
        id: expect.any(String),
        ts: expect.any(Number),
        room: '#dev',
        from: 'talker',
        text: 'Deployed build 3 to production',
        kind: 'say',
      },
    ]);
    // Asking past the page size the server allows is a schema error, not a larger page.
    expect(await p.request({ type: 'search', q: 'deployed', limit: 5 })).toMatchObject({
      type: 'error',
      code: 'invalid_message',
    });
    expect(await p.request({ type: 'search', q: '  !!! ' })).toMatchObject({
      type: 'error',
      code: 'bad_query',
      message: 'Nothing to search for: give at least one word (letters or digits)',
    });
    expect(await p.request({ type: 'search', q: 'a b c d e f g h i' })).toMatchObject({
      type: 'error',
      code: 'bad_query',
    });
    expect(await p.request({ type: 'search', q: 'x', before: 'nope' })).toMatchObject({
      type: 'error',
      code: 'invalid_message',
    });
    // Still connected and served after every refusal.
    await p.barrier();
    expect(p.closed).toBe(false);
  }
  f.close();
  w.close();
});

test('private messages: an identified account finds its own conversations, nobody else finds them', async () => {
  const port = portOf(server, 'framed');
  const [ann, ben, cat] = await Promise.all(
    ['ann', 'ben', 'cat'].map((n) => FramedPeer.hello(port, n)),
  );
  for (const p of [ann!, ben!, cat!]) {
    expect((await p.request({ type: 'register', password: 'correcthorse' })).type).toBe('ok');
  }
  await ann!.request({ type: 'dm', to: 'ben', text: 'the vault code is tangerine' });
  await ben!.request({ type: 'dm', to: 'ann', text: 'tangerine noted' });
  const annFound = await ann!.request({ type: 'search', q: 'tangerine' });
  expect(hits(annFound).map((h) => [h.with, h.from, h.text, h.room])).toEqual([
    ['ben', 'ben', 'tangerine noted', undefined],
    ['ben', 'ann', 'the vault code is tangerine', undefined],
  ]);
  expect(hits(await ben!.request({ type: 'search', q: 'tangerine' }))).toHaveLength(2);
  // Cat is identified too, and in the same lobby: not a word of it.
  expect(hits(await cat!.request({ type: 'search', q: 'tangerine' }))).toEqual([]);
  // A guest's message to ann is ann's to find (a guest keeps no private history).
  const dan = await FramedPeer.hello(port, 'dan');
  await dan.request({ type: 'dm', to: 'ann', text: 'tangerine from a guest' });
  await ann!.request({ type: 'dm', to: 'dan', text: 'tangerine back to the guest' });
  expect(
    hits(await ann!.request({ type: 'search', q: 'tangerine' })).map((h) => [h.with, h.from]),
  ).toEqual([
    ['dan', 'ann'],
    ['dan', 'dan'],
    ['ben', 'ben'],
    ['ben', 'ann'],
  ]);
  expect(hits(await ben!.request({ type: 'search', q: 'guest' }))).toEqual([]);
  expect(hits(await dan.request({ type: 'search', q: 'tangerine' }))).toEqual([]);
  dan.close();
  // A guest (not identified) searches rooms only.
  const guest = await LinePeer.named(portOf(server, 'line'), 'guest');
  guest.send('/search tangerine');
  await guest.line(/^\* Nothing found for "tangerine" in your rooms$/);
  // As the line protocol shows a private message.
  const annLine = await LinePeer.named(portOf(server, 'line'), 'ann2');
  annLine.send('/identify ann correcthorse');
  await annLine.line(/^\* You are now identified as ann$/);
  annLine.send('/search vault');
  await annLine.line(/^\* 1 message for "vault" in your rooms, newest first:$/);
  expect(await annLine.line(/^\[/)).toMatch(/\] -> \*ben\* the vault code is tangerine$/);
  for (const p of [ann!, ben!, cat!, guest, annLine]) p.close();
});

test('a server operator may search a room by name without joining it (as history); others may not', async () => {
  const port = portOf(server, 'line');
  const keeper = await LinePeer.named(port, 'keeper');
  keeper.send('/join #vault');
  await keeper.line(/^\* You joined #vault/);
  keeper.send('gold bars behind the painting');
  await keeper.barrier();
  const boss = await LinePeer.named(port, 'boss');
  boss.send('/search #vault gold');
  await boss.line(/^! Join #vault to read its history$/);
  boss.send('/oper boss sesame');
  await boss.line(/^\* You are now a server operator$/);
  boss.send('/search #vault gold');
  await boss.line(/^\* 1 message for "gold" in #vault, newest first:$/);
  expect(await boss.line(/^\[/)).toMatch(/\] #vault <keeper> gold bars behind the painting$/);
  // Without a room an operator searches the rooms they are in, like anyone.
  boss.send('/search gold');
  await boss.line(/^\* Nothing found for "gold" in your rooms$/);
  keeper.close();
  boss.close();
});
