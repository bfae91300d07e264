/**
 * Issue 15, the default room: whoever came first after a start owned #lobby, and could
 * then make it invite-only or keyed, which stopped everyone else from registering.
 *
 * - The first person in #lobby is not its operator (line, IRC, JSON all show no `@`).
 * - `MODE #lobby +i` / `+k` by anyone but an operator is refused.
 * - Even with #lobby +i, +k and +l set by a server operator, new line, framed and
 *   WebSocket users register and land in #lobby.
 * - The admin console names operators of the default room (`op ROOM NAME`) and puts its
 *   modes back (`reset ROOM`), through the admin socket in the data directory.
 */
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { silentLogger } from '../../../src/core/ports.js';
import type { Session } from '../../../src/core/session.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { portOf, testConfig } from '../../helpers/server.js';
import {
  ATTACK_SERVER_FLAGS,
  FramedPeer,
  IrcPeer,
  LinePeer,
  WsPeer,
  type AnyPeer,
} from './peers.js';

let server: RunningServer;
let adminPath: string;
let line: number, irc: number, framed: number, http: number;
const opened: AnyPeer[] = [];

function track<P extends AnyPeer>(p: P): P {
  opened.push(p);
  return p;
}

/** One admin-socket command: its reply lines (the block ends with a line holding "."). */
async function admin(command: string): Promise<string[]> {
  const socket = net.connect(adminPath);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const lines = createInterface({ input: socket, crlfDelay: Infinity });
  const reply: string[] = [];
  const done = new Promise<string[]>((resolve) => {
    lines.on('line', (l) => {
      if (l === '.') resolve(reply);
      else reply.push(l.startsWith('..') ? l.slice(1) : l);
    });
  });
  socket.write(`${command}\n`);
  const out = await done;
  socket.destroy();
  return out;
}

beforeAll(async () => {
  const config = testConfig([...ATTACK_SERVER_FLAGS, '--oper', 'boss:letmein']);
  adminPath = join(config.dataDir, 'admin.sock');
  server = await startServer(config, silentLogger);
  line = portOf(server, 'line');
  irc = portOf(server, 'irc');
  framed = portOf(server, 'framed');
  http = portOf(server, 'http');
});

afterAll(async () => {
  for (const p of opened) p.close();
  await server?.close();
});

let first: IrcPeer;
let second: LinePeer;
let third: FramedPeer;

test('the first person in #lobby after a start is not its operator', async () => {
  first = track(await IrcPeer.register(irc, 'first'));
  first.send('JOIN #lobby');
  expect(await first.line(/ 353 first /)).toMatch(/ 353 first = #lobby :first$/);
  second = track(await LinePeer.named(line, 'second'));
  second.send('/who');
  expect(await second.line(/^\* In #lobby /)).toBe('* In #lobby (2): first, second');
  third = track(await FramedPeer.hello(framed, 'third'));
  const joined = await third.json((m) => m.type === 'joined' && m.name === 'third');
  expect((joined.members as { op: boolean }[]).some((m) => m.op)).toBe(false);
});

test('MODE #lobby +i or +k by a non-operator (the first one in too) is refused', async () => {
  first.send('MODE #lobby +i');
  await first.line(/ 482 first #lobby /);
  first.send('MODE #lobby +k mine');
  await first.line(/ 482 first #lobby /);
  second.send('/topiclock #lobby off');
  await second.line(/^! You are not an operator of #lobby$/);
  first.send('MODE #lobby');
  expect(await first.line(/ 324 first #lobby /)).toMatch(/ 324 first #lobby \+nt$/);
  expect(server.hub.room('#lobby')?.modes).toMatchObject({ inviteOnly: false, key: null });
});

test('with #lobby +i, +k and +l set by a server operator, new users still register and land there', async () => {
  const boss = track(await IrcPeer.register(irc, 'boss'));
  boss.send('OPER boss letmein');
  await boss.line(/ 381 boss /);
  boss.send('MODE #lobby +ikl sesame 1');
  // A member sees it (the operator need not be in the room to set it).
  await first.line(/^:boss!\S+ MODE #lobby \+ikl sesame 1$/);
  const l = track(await LinePeer.named(line, 'newline'));
  expect(l.units.join('\n')).toMatch(/\* Welcome, newline! You are in #lobby with \d+ others/);
  for (const [name, open] of [
    ['newframed', (n: string) => FramedPeer.hello(framed, n)],
    ['newweb', (n: string) => WsPeer.hello(http, n)],
  ] as const) {
    const p = track(await open(name));
    const welcome = JSON.parse(p.units.find((u) => u.includes('"welcome"')) as string) as {
      rooms: { name: string }[];
    };
    expect(welcome.rooms.map((r) => r.name)).toEqual(['#lobby']);
    await p.json((m) => m.type === 'joined' && m.name === name && m.room === '#lobby');
  }
  const lobby = server.hub.room('#lobby');
  for (const name of ['newline', 'newframed', 'newweb']) {
    expect(lobby?.has(server.hub.find(name) as Session), name).toBe(true);
  }
  // Joining it on purpose is another matter: the modes hold for that.
  const late = track(await IrcPeer.register(irc, 'lateirc'));
  late.send('JOIN #lobby');
  await late.line(/ 473 lateirc #lobby /);
});

test('the admin console names an operator of #lobby and resets its modes', async () => {
  expect(await admin('op #lobby first')).toEqual(['first is an operator of #lobby']);
  await first.line(/ MODE #lobby \+o first$/);
  // Now first may change #lobby's modes.
  first.send('MODE #lobby +m');
  await first.line(/^:first!\S+ MODE #lobby \+m$/);
  const reset = await admin('reset #lobby');
  expect(reset[0]).toMatch(/^reset \d+ setting\(s\) of #lobby$/);
  await first.line(/ MODE #lobby -/);
  first.send('MODE #lobby');
  expect(await first.line(/ 324 first #lobby /)).toMatch(/ 324 first #lobby \+nt$/);
  expect(await admin('reset #lobby')).toEqual(['nothing to reset']);
  // An explicit JOIN works again.
  const late = track(await IrcPeer.register(irc, 'laterirc'));
  late.send('JOIN #lobby');
  await late.line(/ 366 laterirc #lobby /);
});
