/**
 * Issue 15, the reported repros: reasons and parameters carrying CR LF, ANSI escapes and
 * other controls became a second, forged line (`:evil PRIVMSG #lobby :forged`) or drove
 * the terminal of netcat users. Each is replayed here; the observers — netcat (line), IRC,
 * framed JSON, WebSocket JSON — must get the event once, as one clean line or message.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parse } from '../../../src/protocols/irc/codec.js';
import type { RunningServer } from '../../../src/server.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import {
  FramedPeer,
  IrcPeer,
  LinePeer,
  WsPeer,
  offset,
  problems,
  type AnyPeer,
  type Json,
  ATTACK_SERVER_FLAGS,
} from './peers.js';

const FORGE = '\r\n:evil PRIVMSG #lobby :forged\x1b[2J\x1b[31m';

let server: RunningServer;
let line: number, irc: number, framed: number, http: number;
let nc: LinePeer, ircObs: IrcPeer, fj: FramedPeer, wj: WsPeer;
const observers = (): AnyPeer[] => [nc, ircObs, fj, wj];

beforeAll(async () => {
  server = await startTestServer([...ATTACK_SERVER_FLAGS]);
  line = portOf(server, 'line');
  irc = portOf(server, 'irc');
  framed = portOf(server, 'framed');
  http = portOf(server, 'http');
  nc = await LinePeer.named(line, 'nc');
  ircObs = await IrcPeer.register(irc, 'ircobs');
  ircObs.send('JOIN #lobby');
  await ircObs.line(/ 366 ircobs #lobby /);
  fj = await FramedPeer.hello(framed, 'fj');
  wj = await WsPeer.hello(http, 'wj');
});

afterAll(async () => {
  for (const p of observers()) p?.close();
  await server?.close();
});

/** Runs `act`, then checks that nothing the observers received since is unclean or forged. */
async function clean(act: () => Promise<void>): Promise<void> {
  const marks = observers().map((p) => offset(p));
  await act();
  await Promise.all(observers().map((p) => p.barrier()));
  const found = observers().flatMap((p, i) => problems(p, marks[i] as number));
  expect(found).toEqual([]);
  for (const p of [nc, ircObs]) {
    expect(p.raw.slice(marks[observers().indexOf(p)])).not.toMatch(/(^|\n):?evil[ !]/);
  }
}

/** Every observer saw `name` quit once, with this reason. */
async function quitSeen(name: string, reason: string): Promise<void> {
  const cut = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await nc.line(new RegExp(`^\\* ${name} left \\(${cut(reason)}\\)$`));
  await ircObs.line(new RegExp(`^:${name}!\\S+ QUIT :${cut(reason)}$`));
  for (const p of [fj, wj]) {
    const m: Json = await p.json((m) => m.type === 'quit' && m.name === name);
    expect(m.reason).toBe(reason);
  }
}

test('a framed quit reason with CR LF and ANSI escapes is one clean quit for everyone', async () => {
  await clean(async () => {
    const q = await FramedPeer.hello(framed, 'fq');
    q.send({ type: 'quit', reason: `bye${FORGE}` });
    await quitSeen('fq', 'quit: bye:evil PRIVMSG #lobby :forged[2J[31m');
    q.close();
  });
});

test('a WebSocket quit reason with CR LF and ANSI escapes is one clean quit for everyone', async () => {
  await clean(async () => {
    const q = await WsPeer.hello(http, 'wq');
    q.send({ type: 'quit', reason: `bye${FORGE}` });
    await quitSeen('wq', 'quit: bye:evil PRIVMSG #lobby :forged[2J[31m');
    q.close();
  });
});

test('an IRC QUIT with NUL, ESC, NEL, U+2028 and a bidi override is one clean quit', async () => {
  await clean(async () => {
    const q = await IrcPeer.register(irc, 'iq');
    q.send('JOIN #lobby');
    await q.line(/ 366 iq #lobby /);
    q.send('QUIT :bye\x00\x1b[2J\u0085\u2028\u202e:evil PRIVMSG #lobby :forged\x07');
    await quitSeen('iq', 'Quit: bye[2J:evil PRIVMSG #lobby :forged');
    q.close();
  });
});

test('a netcat /quit reason with ESC sequences and a bidi isolate reaches no terminal as such', async () => {
  await clean(async () => {
    const q = await LinePeer.named(line, 'lq');
    q.send('/quit bye\x1b]0;owned\x07\x1b[2J\u009b31m\u2067');
    await quitSeen('lq', 'quit: bye]0;owned[2J31m');
    q.close();
  });
});

test('INVITE with controls in the channel parameter is refused, and invites nobody', async () => {
  const inviter = await IrcPeer.register(irc, 'inviter');
  await clean(async () => {
    for (const bad of ['#x\x0b:evil', '#x\u0085:evil', '#x\u2028:evil', '#x\x1b[2J', '#x\x00y']) {
      for (const to of ['nc', 'ircobs', 'fj', 'wj']) inviter.send(`INVITE ${to} ${bad}`);
    }
    inviter.send('INVITE nc #fine');
    await inviter.barrier();
  });
  // Only the clean invitation arrived; the others were refused with ERR_NOSUCHCHANNEL.
  expect(nc.units.filter((l) => l.includes('invites you'))).toEqual([
    '* inviter invites you to #fine (type /join #fine)\r',
  ]);
  expect(inviter.units.filter((l) => / 403 inviter /.test(l)).length).toBe(20);
  inviter.close();
});

test('MODE +b with control characters is refused; no mode line carries them', async () => {
  const op = await IrcPeer.register(irc, 'banop');
  op.send('JOIN #x');
  await op.line(/ 366 banop #x /);
  nc.send('/join #x');
  await nc.line(/^\* You joined #x/);
  ircObs.send('JOIN #x');
  await ircObs.line(/ 366 ircobs #x /);
  for (const p of [fj, wj])
    expect((await p.request({ type: 'join', room: '#x' })).type).toBe('joined');
  await clean(async () => {
    for (const mask of ['*!*@\x1b[2J', 'a\x00b', 'x\u0085:evil', 'x\u2028y', 'x\u202ey', 'x\x7f']) {
      op.send(`MODE #x +b ${mask}`);
    }
    op.send('MODE #x +b clean!*@*');
    await op.barrier();
  });
  // The clean one was set, and shown to everyone; the others were not.
  expect(server.hub.room('#x')?.bans.map((b) => b.mask)).toEqual(['clean!*@*']);
  expect(ircObs.units.filter((l) => / MODE #x /.test(l))).toEqual([
    ':banop!~banop@127.0.0.1 MODE #x +b clean!*@*',
  ]);
  op.close();
});

test('a ban mask starting with ":" is refused: IRC would read it as the last parameter', async () => {
  const op = await IrcPeer.register(irc, 'colonop');
  op.send('JOIN #colon');
  await op.line(/ 366 colonop #colon /);
  const l = await LinePeer.named(line, 'colonline');
  l.send('/join #colon');
  await l.line(/^\* You joined #colon/);
  op.send('MODE #colon +o colonline');
  await op.line(/ MODE #colon \+o colonline$/);
  await clean(async () => {
    l.send('/ban #colon :evil');
    await l.line(/^! A mask cannot be empty, start with ":"/);
    // Sent as a trailing parameter, the mask really does start with ':'.
    op.send('MODE #colon +b ::evil');
    await op.line(/ NOTICE colonop :A mask cannot be empty, start with ":"/);
  });
  expect(server.hub.room('#colon')?.bans).toEqual([]);
  // Every ban line an IRC client reads has its parameters where they belong.
  l.send('/ban #colon a:b');
  await l.line(/^\* Banned a:b!\*@\* from #colon$/);
  op.send('MODE #colon b');
  const entry = await op.line(/ 367 colonop /);
  expect(parse(entry)?.params).toEqual([
    'colonop',
    '#colon',
    'a:b!*@*',
    'colonline!colonline@127.0.0.1',
    expect.stringMatching(/^\d+$/),
  ]);
  op.close();
  l.close();
});
