/**
 * Issue 15, what a guesser or a crowd can cost: OPER passwords could be guessed as fast as
 * lines arrive, `/register` could be repeated at will, and every registration ran scrypt
 * at once. Now:
 *
 * - OPER attempts (IRC OPER, line /oper) are limited per address (`--login-burst`,
 *   `--login-rate`), and a throttled address is refused even with the right password;
 *   another address is not affected.
 * - Registrations are limited per address (`--register-burst`), whichever protocol.
 * - scrypt runs `--hash-concurrency` at a time, `--hash-queue` more wait their turn, and
 *   past that a registration is refused with the documented busy error — nothing else.
 *
 * Other addresses are other loopback addresses (127.0.0.2, 127.0.0.3): the server binds
 * 127.0.0.1 and the kernel routes all of 127/8 to it.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningServer } from '../../../src/server.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import { IrcPeer, LinePeer, type AnyPeer } from './peers.js';

const opened: AnyPeer[] = [];
function track<P extends AnyPeer>(p: P): P {
  opened.push(p);
  return p;
}

let server: RunningServer;
let line: number, irc: number;

beforeAll(async () => {
  server = await startTestServer([
    '--irc-port',
    '0',
    '--flood-rate',
    '0',
    '--oper',
    'boss:right-password',
    '--login-burst',
    '3',
    '--login-rate',
    '0.01',
    '--register-burst',
    '2',
    '--register-rate',
    '0.01',
  ]);
  line = portOf(server, 'line');
  irc = portOf(server, 'irc');
});

afterAll(async () => {
  for (const p of opened) p.close();
  await server?.close();
});

test('wrong OPER passwords are throttled per address, over IRC and the line protocol alike', async () => {
  const guesser = track(await IrcPeer.register(irc, 'guesser'));
  for (let i = 0; i < 3; i++) {
    guesser.send(`OPER boss guess${i}`);
    await guesser.line(/ 464 guesser /);
  }
  // The burst is spent: even the right password is refused now, and says why.
  guesser.send('OPER boss right-password');
  await guesser.line(/ NOTICE guesser :Too many operator login attempts/);
  await guesser.barrier();
  expect(guesser.units.some((l) => / 381 /.test(l))).toBe(false);
  expect(server.hub.find('guesser')?.oper).toBe(false);
  // The same address over the line protocol shares the limit.
  const l = track(await LinePeer.named(line, 'lguess'));
  l.send('/oper boss right-password');
  await l.line(/^! Too many operator login attempts: wait a minute and try again$/);
  expect(server.hub.find('lguess')?.oper).toBe(false);
  // Another address has its own.
  const other = track(await IrcPeer.register(irc, 'elsewhere', { from: '127.0.0.2' }));
  other.send('OPER boss right-password');
  await other.line(/ 381 elsewhere /);
  const otherLine = track(await LinePeer.named(line, 'elseline', '127.0.0.2'));
  otherLine.send('/oper boss nope');
  await otherLine.line(/^! Wrong operator name or password$/);
});

test('registrations are throttled per address, whichever protocol asks', async () => {
  const replies: string[] = [];
  for (const name of ['reg1', 'reg2', 'reg3']) {
    const p = track(await LinePeer.named(line, name));
    p.send('/register sesame-open');
    replies.push(await p.line(/^\* \S+ is now registered|^! /));
  }
  expect(replies).toEqual([
    expect.stringMatching(/^\* reg1 is now registered/),
    expect.stringMatching(/^\* reg2 is now registered/),
    '! Too many registrations: wait a minute and try again',
  ]);
  const i = track(await IrcPeer.register(irc, 'reg4'));
  i.send('PRIVMSG NickServ :REGISTER sesame-open');
  await i.line(/ NOTICE reg4 :Too many registrations: wait a minute and try again$/);
  expect(await server.hub.store.getAccount('reg3')).toBeNull();
  expect(await server.hub.store.getAccount('reg4')).toBeNull();
  const other = track(await LinePeer.named(line, 'reg5', '127.0.0.3'));
  other.send('/register sesame-open');
  await other.line(/^\* reg5 is now registered/);
});

test.each([
  { concurrency: 1, queue: 2 },
  { concurrency: 2, queue: 0 },
])(
  'with --hash-concurrency $concurrency and --hash-queue $queue, simultaneous registrations are hashed in turn or refused as busy',
  async ({ concurrency, queue }) => {
    const s = await startTestServer([
      '--flood-rate',
      '0',
      '--register-burst',
      '100',
      '--hash-concurrency',
      String(concurrency),
      '--hash-queue',
      String(queue),
    ]);
    const port = portOf(s, 'line');
    const names = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7'];
    const peers = await Promise.all(names.map((n) => LinePeer.named(port, n)));
    const answered: string[] = [];
    const answers = peers.map(async (p) => {
      const reply = await p.line(/^\* \S+ is now registered|^! /, 15_000);
      answered.push(`${p.name} ${reply.startsWith('*') ? 'registered' : reply}`);
    });
    // All at once: every one arrives while the first hashes (scrypt takes tens of ms).
    for (const p of peers) p.send('/register sesame-open');
    await Promise.all(answers);
    const admitted = concurrency + queue;
    const registered = answered.filter((a) => a.endsWith(' registered'));
    // Those admitted are hashed (one at a time: answered in the order they came); the rest
    // are told the server is busy, and nothing else happens to anyone.
    const want = names.slice(0, admitted).map((n) => `${n} registered`);
    expect(concurrency === 1 ? registered : [...registered].sort()).toEqual(want);
    expect(answered.filter((a) => !a.endsWith(' registered')).sort()).toEqual(
      names.slice(admitted).map((n) => `${n} ! The server is busy; try again in a moment`),
    );
    // Once the hashing is done, a refused one gets through.
    const last = peers[peers.length - 1] as LinePeer;
    last.send('/register sesame-open');
    await last.line(/^\* h7 is now registered/);
    for (const p of peers) p.close();
    await s.close();
  },
);
