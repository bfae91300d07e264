/**
 * Issue 15, names: taking someone's registered name, holding a name without registering,
 * ghosts, and names the server speaks as.
 *
 * - The grace period to identify for a registered name is per impostor and does not
 *   restart when they change name and come back (`--name-grace 2`; the sweep runs once a
 *   second). Time is never measured here: other impostors serve as the clock, and only
 *   the order of renames and what the notices say are checked.
 * - An IRC connection that sent only `NICK alice` holds nothing: a line or JSON user takes
 *   alice, and so does the owner proving the password (JSON `hello` with `identify`, line
 *   `/ghost`, IRC NickServ REGAIN/GHOST).
 * - A ghost (a registered connection using the name) is disconnected by GHOST, REGAIN,
 *   `/ghost` and `hello` with `identify`; a wrong password changes nothing.
 * - NickServ, ChanServ, ... cannot be taken on any protocol, so `PRIVMSG NickServ
 *   :IDENTIFY pw` reaches no person.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningServer } from '../../../src/server.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import {
  FramedPeer,
  IrcPeer,
  LinePeer,
  WsPeer,
  type AnyPeer,
  ATTACK_SERVER_FLAGS,
} from './peers.js';

const PW = 'correct-horse-9';
let server: RunningServer;
let line: number, irc: number, framed: number, http: number;
const opened: AnyPeer[] = [];

function track<P extends AnyPeer>(p: P): P {
  opened.push(p);
  return p;
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Registers `name` as an account with PW, then leaves. */
async function account(name: string): Promise<void> {
  const p = await LinePeer.named(line, name);
  p.send(`/register ${PW}`);
  await p.line(new RegExp(`^\\* ${name} is now registered`));
  p.send('/quit');
  await p.waitClosed();
  await until(`${name} to leave`, () => server.hub.find(name) === undefined);
}

beforeAll(async () => {
  server = await startTestServer([
    ...ATTACK_SERVER_FLAGS,
    '--name-grace',
    '2',
    '--login-burst',
    '1000',
    '--register-burst',
    '1000',
  ]);
  line = portOf(server, 'line');
  irc = portOf(server, 'irc');
  framed = portOf(server, 'framed');
  http = portOf(server, 'http');
  for (const name of ['alice', 'carol', 'dave', 'erin', 'gina']) await account(name);
});

afterAll(async () => {
  for (const p of opened) p.close();
  await server?.close();
});

const GRACE = /^\* The name (\S+) belongs to a registered account\. Identify within (\d+) seconds/;
const RENAMED = /^\* You did not identify for (\S+); you are now (Guest\d+)$/;

test('the grace period is per impostor and does not restart when they nick away and back', async () => {
  const a = track(await LinePeer.named(line, 'imposter'));
  const b = track(await LinePeer.named(line, 'clockb'));
  a.send('/nick alice');
  expect(GRACE.exec(await a.line(GRACE))?.[2]).toBe('2');
  // B's period starts after A's: when B is renamed, A's has ended too.
  b.send('/nick carol');
  await b.line(GRACE);
  a.send('/nick notalice');
  await a.line(/^\* You are now known as notalice$/);
  await b.line(RENAMED, 6000);
  // Back on alice: the period A had is over, it does not begin again.
  a.send('/nick alice');
  expect(GRACE.exec(await a.line(GRACE))?.[2]).toBe('0');
  const c = track(await LinePeer.named(line, 'clockc'));
  c.send('/nick dave');
  expect(GRACE.exec(await c.line(GRACE))?.[2]).toBe('2');
  // So A is renamed at the next sweep, while C, who came later, still has time.
  const [, from] = RENAMED.exec(await a.line(RENAMED, 3000)) as RegExpExecArray;
  expect(from).toBe('alice');
  expect(c.units.some((l) => RENAMED.test(l.replace(/\r$/, '')))).toBe(false);
  expect(server.hub.find('dave')).toBeDefined();
  // Another impostor taking alice now has a period of their own.
  const d = track(await LinePeer.named(line, 'latecomer'));
  d.send('/nick alice');
  expect(GRACE.exec(await d.line(GRACE))?.[2]).toBe('2');
  for (const p of [a, b, c, d]) p.close();
});

/** An IRC connection that sends NICK and nothing else. */
async function squatter(nick: string): Promise<IrcPeer> {
  const s = track(await IrcPeer.connect(irc, nick));
  s.send(`NICK ${nick}`);
  await s.barrier();
  return s;
}

test('an IRC connection with only NICK does not keep the name from line, framed or WebSocket users', async () => {
  const s1 = await squatter('hank');
  const l = track(await LinePeer.named(line, 'hank'));
  // The squatter, finishing registration now, is the one told the name is taken.
  s1.send('USER hank 0 * :hank');
  await s1.line(/ 433 \* hank /);
  l.close();
  const s2 = await squatter('ivan');
  const f = track(await FramedPeer.hello(framed, 'ivan'));
  expect(server.hub.find('ivan')).toBeDefined();
  const s3 = await squatter('judy');
  const w = track(await WsPeer.hello(http, 'judy'));
  expect(server.hub.find('judy')).toBeDefined();
  for (const p of [s1, s2, s3, f, w]) p.close();
});

test('the owner takes the name from a squatter: hello identify, /ghost, NickServ REGAIN and GHOST', async () => {
  // JSON hello with the account password.
  let s = await squatter('erin');
  const f = track(await FramedPeer.hello(framed, 'erin', { identify: PW }));
  expect(server.hub.find('erin')?.account).toBe('erin');
  f.close();
  s.close();
  await until('erin to leave', () => server.hub.find('erin') === undefined);
  // Line /ghost from another name.
  s = await squatter('erin');
  const l = track(await LinePeer.named(line, 'erinl'));
  l.send(`/ghost erin ${PW}`);
  await l.line(/^\* erin is yours again$/);
  expect(server.hub.find('erin')?.conn.protocol).toBe('line');
  l.close();
  s.close();
  await until('erin to leave', () => server.hub.find('erin') === undefined);
  // IRC REGAIN.
  s = await squatter('erin');
  const i = track(await IrcPeer.register(irc, 'erini'));
  i.send(`PRIVMSG NickServ :REGAIN erin ${PW}`);
  await i.line(/^:erini!\S+ NICK :erin$/);
  await i.line(/^:NickServ!\S+ NOTICE \S+ :You have regained erin\.$/);
  // IRC GHOST ends the squatter's connection.
  const s2 = await squatter('gina');
  i.send(`PRIVMSG NickServ :GHOST gina ${PW}`);
  await i.line(/ NOTICE \S+ :gina has been ghosted\.$/);
  await s2.line(/^ERROR :Closing link: .*GHOST command used by erin/);
  await s2.waitClosed();
  for (const p of [s, i]) p.close();
  await until('erin to leave', () => server.hub.find('erin') === undefined);
});

/** A ghost: the owner's old connection, registered and identified as `name`. */
async function ghost(name: string): Promise<LinePeer> {
  const g = track(await LinePeer.named(line, name));
  g.send(`/identify ${PW}`);
  await g.line(new RegExp(`^\\* You are now identified as ${name}$`));
  return g;
}

test('a ghost is disconnected by GHOST, REGAIN, /ghost and hello identify; a wrong password changes nothing', async () => {
  const owner = track(await IrcPeer.register(irc, 'owneri'));
  let g = await ghost('alice');
  owner.send('PRIVMSG NickServ :GHOST alice wrong password');
  await owner.line(/ NOTICE owneri :Wrong account name or password$/);
  owner.send(`PRIVMSG NickServ :GHOST alice ${PW}`);
  await g.line(/^\* Disconnected: GHOST command used by owneri$/);
  await g.waitClosed();
  await owner.line(/ NOTICE owneri :alice has been ghosted\.$/);

  g = await ghost('alice');
  owner.send(`PRIVMSG NickServ :REGAIN alice ${PW}`);
  await g.line(/^\* Disconnected: GHOST command used by owneri$/);
  await owner.line(/^:owneri!\S+ NICK :alice$/);
  owner.close();
  await until('alice to leave', () => server.hub.find('alice') === undefined);

  g = await ghost('alice');
  const l = track(await LinePeer.named(line, 'ownerl'));
  l.send(`/ghost alice ${PW}`);
  await g.line(/^\* Disconnected: GHOST command used by ownerl$/);
  await l.line(/^\* alice is yours again$/);
  l.close();
  await until('alice to leave', () => server.hub.find('alice') === undefined);

  g = await ghost('alice');
  const w = track(await WsPeer.open(http, 'alice'));
  w.send({ type: 'hello', name: 'alice', identify: 'wrong password' });
  expect(await w.json((m) => m.type === 'error')).toMatchObject({ code: 'permission_denied' });
  expect(g.closed).toBe(false);
  w.send({ type: 'hello', name: 'alice', identify: PW });
  expect(await w.json((m) => m.type === 'welcome')).toMatchObject({ name: 'alice' });
  await g.line(/^\* Disconnected: GHOST command used by /);
  await g.waitClosed();
  expect(server.hub.find('alice')?.conn.protocol).toBe('ws');
  w.close();
});

test('service names are refused on every protocol, so what is sent to NickServ reaches nobody', async () => {
  const services = ['NickServ', 'chanserv', 'OPERSERV', 'MemoServ'];
  for (const name of services) {
    const l = track(await LinePeer.connect(line));
    await l.expect((u) => u.endsWith('Choose a name: '));
    l.send(name);
    await l.line(/^! Invalid name .*reserved/);
    l.close();
    for (const open of [() => FramedPeer.connect(framed), () => WsPeer.open(http)]) {
      const j = track(await open());
      j.send({ type: 'hello', name });
      expect(await j.json((m) => m.type === 'error')).toMatchObject({ code: 'name_invalid' });
      j.close();
    }
    const i = track(await IrcPeer.connect(irc));
    i.send(`NICK ${name}`);
    await i.line(new RegExp(` 432 \\* ${name} `));
    i.close();
  }
  // Nor by renaming.
  const l = track(await LinePeer.named(line, 'lsvc'));
  const f = track(await FramedPeer.hello(framed, 'fsvc'));
  const w = track(await WsPeer.hello(http, 'wsvc'));
  const i = track(await IrcPeer.register(irc, 'isvc'));
  l.send('/nick NickServ');
  await l.line(/^! Invalid name .*reserved/);
  for (const j of [f, w]) {
    expect(await j.request({ type: 'nick', name: 'NickServ' })).toMatchObject({
      code: 'name_invalid',
    });
  }
  i.send('NICK ChanServ');
  await i.line(/ 432 isvc ChanServ /);
  expect(server.hub.find('NickServ')).toBeUndefined();
  expect(server.hub.find('ChanServ')).toBeUndefined();
  // Passwords sent to the services reach no person.
  i.send('PRIVMSG NickServ :IDENTIFY hunter2-secret');
  i.send('NOTICE NickServ :IDENTIFY hunter2-secret');
  i.send('PRIVMSG ChanServ :IDENTIFY hunter2-secret');
  l.send('/msg NickServ IDENTIFY hunter2-secret');
  await l.line(/^! No one is called NickServ$/);
  for (const j of [f, w]) {
    expect(
      await j.request({ type: 'dm', to: 'NickServ', text: 'IDENTIFY hunter2-secret' }),
    ).toMatchObject({
      code: 'no_such_user',
    });
  }
  await Promise.all([l, f, w, i].map((p) => p.barrier()));
  for (const p of opened) {
    const got = p instanceof LinePeer || p instanceof IrcPeer ? p.raw : p.units.join('\n');
    expect(got.includes('hunter2-secret'), p.label).toBe(false);
  }
});
