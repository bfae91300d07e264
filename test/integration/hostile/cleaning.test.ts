/**
 * Issue 15, the one cleaning rule: whatever a person puts in any field they control, over
 * any protocol, nobody on any protocol receives a line break inside a line, a control
 * character (C0 but TAB, DEL, C1, ESC), a line separator or a bidi override; every IRC
 * line parses, every JSON message parses.
 *
 * One server, one attacker and one observer per protocol (line, IRC, framed JSON,
 * WebSocket JSON), all in the same rooms. Each run gives every injector (one per protocol
 * and field) its own hostile string; then the observers ask who, rooms, names, topics,
 * whois and history, and everything every observer received during the run is judged.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { escapeTag } from '../../../src/protocols/irc/codec.js';
import type { Session } from '../../../src/core/session.js';
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

let server: RunningServer;
let ports: { line: number; irc: number; framed: number; http: number };
let la: LinePeer, ia: IrcPeer, fa: FramedPeer, wa: WsPeer;
let lo: LinePeer, io: IrcPeer, fo: FramedPeer, wo: WsPeer;
let vic: LinePeer;
const observers = (): AnyPeer[] => [lo, io, fo, wo];
const attackers = (): AnyPeer[] => [la, ia, fa, wa];
const OBSERVERS = ['lo', 'io', 'fo', 'wo'];

function session(name: string): Session {
  const s = server.hub.find(name);
  if (!s) throw new Error(`${name} is not online`);
  return s;
}

async function joinJson(p: FramedPeer | WsPeer, room: string): Promise<void> {
  const r = await p.request({ type: 'join', room });
  expect(r.type).toBe('joined');
}

async function joinLine(p: LinePeer, room: string): Promise<void> {
  p.send(`/join ${room}`);
  await p.line(new RegExp(`^\\* You joined ${room}\\b`));
}

async function joinIrc(p: IrcPeer, room: string): Promise<void> {
  p.send(`JOIN ${room}`);
  await p.line(new RegExp(` 366 \\S+ ${room} `));
}

beforeAll(async () => {
  server = await startTestServer([...ATTACK_SERVER_FLAGS, '--max-per-ip', '1000']);
  ports = {
    line: portOf(server, 'line'),
    irc: portOf(server, 'irc'),
    framed: portOf(server, 'framed'),
    http: portOf(server, 'http'),
  };
  // The IRC attacker founds the rooms, so it operates them, and makes the others operators.
  ia = await IrcPeer.register(ports.irc, 'ia', { caps: ['message-tags'] });
  for (const r of ['#h', '#p', '#lobby']) await joinIrc(ia, r);
  io = await IrcPeer.register(ports.irc, 'io', {
    caps: ['message-tags', 'away-notify', 'extended-join'],
  });
  for (const r of ['#h', '#p', '#lobby']) await joinIrc(io, r);
  la = await LinePeer.named(ports.line, 'la');
  lo = await LinePeer.named(ports.line, 'lo');
  vic = await LinePeer.named(ports.line, 'vic');
  for (const p of [la, lo]) {
    await joinLine(p, '#p');
    await joinLine(p, '#h');
  }
  await joinLine(vic, '#h');
  fa = await FramedPeer.hello(ports.framed, 'fa');
  fo = await FramedPeer.hello(ports.framed, 'fo');
  wa = await WsPeer.hello(ports.http, 'wa');
  wo = await WsPeer.hello(ports.http, 'wo');
  for (const p of [fa, fo, wa, wo]) {
    await joinJson(p, '#h');
    await joinJson(p, '#p');
  }
  ia.send('MODE #h +ooo la fa wa');
  await ia.line(/ MODE #h \+ooo la fa wa$/);
  for (const p of [...observers(), ...attackers(), vic]) await p.barrier();
});

afterAll(async () => {
  for (const p of [...observers(), ...attackers(), vic]) p?.close();
  await server?.close();
});

// ---- hostile strings -------------------------------------------------------------------

const nasty = fc.constantFrom(
  '\r',
  '\n',
  '\r\n',
  '\0',
  '\x01',
  '\x07',
  '\x08',
  '\x7f',
  '\x1b[31m',
  '\x1b[2J\x1b[H',
  '\x1b]0;owned\x07',
  '\x1b[6n',
  '\u0085',
  '\u009b',
  '\u009b31m',
  '\u2028',
  '\u2029',
  '\u202e',
  '\u202d',
  '\u2066',
  '\u2069',
  '\u200b',
  '\u200e',
  '\ufeff',
  '\ufffd',
  '\ud800',
  '\t',
  ' ',
  ':',
  ';',
  ',',
  '#',
  '!',
  '@',
  '*',
  '\\',
  '\\r\\n',
  '\x01ACTION x\x01',
  '\r\n:evil PRIVMSG #lobby :forged',
  '\r\nQUIT :bye',
  'é',
  '日本',
  '👍🏽',
  'e\u0301',
);
const piece = fc.oneof(
  { arbitrary: nasty, weight: 6 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 12 }), weight: 3 },
  { arbitrary: fc.string({ maxLength: 8 }), weight: 2 },
  { arbitrary: fc.constantFrom('x'.repeat(520), 'é'.repeat(1400), '👍'.repeat(1100)), weight: 1 },
);
const hostile = fc.array(piece, { minLength: 1, maxLength: 8 }).map((a) => a.join(''));

/** Line and IRC separate lines with CR and LF: inside one field a person cannot send them. */
const oneLine = (s: string): string => s.replace(/[\r\n]/g, ' ');

/** At most `max` bytes of UTF-8, whole characters (an IRC line is at most 512 bytes). */
function fit(s: string, max: number): string {
  let out = '';
  for (const ch of s) {
    if (Buffer.byteLength(out + ch) > max) break;
    out += ch;
  }
  return out;
}

// ---- injectors: one per protocol and field ------------------------------------------------

let seq = 0;

/** Waits until every observer has seen `name` leave (quit events are not acknowledged). */
async function seenQuit(name: string): Promise<void> {
  await Promise.all([
    lo.line(new RegExp(`^\\* ${name} left \\(`)),
    io.line(new RegExp(`^(?:@\\S+ )?:${name}!\\S+ QUIT `)),
    ...[fo, wo].map((p) => p.json((m) => m.type === 'quit' && m.name === name)),
  ]);
}

async function victimBack(): Promise<void> {
  if (server.hub.room('#h')?.has(session('vic'))) return;
  await joinLine(vic, '#h');
}

/** Lifts every ban of #h (a random mask may be *, which bans everyone). */
async function clearBans(): Promise<void> {
  const bans = server.hub.room('#h')?.bans ?? [];
  for (const b of [...bans]) ia.send(`MODE #h -b ${b.mask}`);
  await ia.barrier();
  expect(server.hub.room('#h')?.bans.length ?? 0).toBe(0);
}

/** Gives `name`'s session its name back after a nick injection renamed it. */
async function renameBack(s: Session, name: string, peer: AnyPeer): Promise<void> {
  if (s.name === name) return;
  if (peer instanceof LinePeer) peer.send(`/nick ${name}`);
  else if (peer instanceof IrcPeer) peer.send(`NICK ${name}`);
  else await peer.request({ type: 'nick', name });
  await peer.barrier();
  expect(s.name).toBe(name);
}

/** Parts every room but the test's own (a join injector may have created some). */
async function partExtraRooms(s: Session, peer: AnyPeer): Promise<void> {
  for (const room of [...s.rooms]) {
    if (['#h', '#p', '#lobby'].includes(room.name)) continue;
    if (peer instanceof IrcPeer) peer.send(`PART ${room.name}`);
    else if (peer instanceof LinePeer) peer.send(`/part ${room.name}`);
    else await peer.request({ type: 'part', room: room.name });
  }
  if (peer instanceof LinePeer) peer.send('/switch #h');
  await peer.barrier();
}

type Injector = { name: string; run(s: string): Promise<void> };

const lineInjectors: Injector[] = [
  { name: 'line say', run: async (s) => (la.send(`x ${oneLine(s)}`), la.barrier()) },
  {
    name: 'line /msg',
    run: async (s) => {
      for (const o of OBSERVERS) la.send(`/msg ${o} ${oneLine(s)}`);
      await la.barrier();
    },
  },
  { name: 'line /me', run: async (s) => (la.send(`/me ${oneLine(s)}`), la.barrier()) },
  { name: 'line /topic', run: async (s) => (la.send(`/topic ${oneLine(s)}`), la.barrier()) },
  {
    name: 'line /part reason',
    run: async (s) => {
      la.send(`/part #p ${oneLine(s)}`);
      la.send('/join #p');
      la.send('/switch #h');
      await la.barrier();
    },
  },
  {
    name: 'line /kick reason',
    run: async (s) => {
      la.send(`/kick #h vic ${oneLine(s)}`);
      await la.barrier();
      await victimBack();
    },
  },
  {
    name: 'line /ban reason',
    run: async (s) => {
      la.send(`/ban #h vic ${oneLine(s)}`);
      await la.barrier();
      await clearBans();
      await victimBack();
    },
  },
  {
    name: 'line /ban mask',
    run: async (s) => {
      la.send(`/ban #h ${oneLine(s)}`);
      await la.barrier();
      await clearBans();
    },
  },
  { name: 'line /away', run: async (s) => (la.send(`/away x${oneLine(s)}`), la.barrier()) },
  {
    name: 'line /join',
    run: async (s) => {
      la.send(`/join ${oneLine(s)}`);
      la.send('/switch #h');
      await la.barrier();
    },
  },
  {
    name: 'line /nick',
    run: async (s) => {
      const me = session('la');
      la.send(`/nick ${oneLine(s)}`);
      await la.barrier();
      await renameBack(me, 'la', la);
    },
  },
  {
    name: 'line /quit',
    run: async (s) => {
      const name = `ql${++seq}`;
      const q = await LinePeer.named(ports.line, name);
      // Within --max-line, or the line (and so the quit) is discarded.
      q.send(`/quit ${fit(oneLine(s), 3000)}`);
      await seenQuit(name);
      q.close();
    },
  },
];

const ircInjectors: Injector[] = [
  { name: 'IRC PRIVMSG', run: async (s) => (ia.send(`PRIVMSG #h :${oneLine(s)}`), ia.barrier()) },
  { name: 'IRC NOTICE', run: async (s) => (ia.send(`NOTICE #h :${oneLine(s)}`), ia.barrier()) },
  {
    name: 'IRC private PRIVMSG',
    run: async (s) => {
      for (const o of OBSERVERS) ia.send(`PRIVMSG ${o} :${oneLine(s)}`);
      await ia.barrier();
    },
  },
  {
    name: 'IRC ACTION',
    run: async (s) => (ia.send(`PRIVMSG #h :\x01ACTION ${oneLine(s)}\x01`), ia.barrier()),
  },
  { name: 'IRC TOPIC', run: async (s) => (ia.send(`TOPIC #h :${oneLine(s)}`), ia.barrier()) },
  {
    name: 'IRC PART reason',
    run: async (s) => {
      ia.send(`PART #p :${oneLine(s)}`);
      ia.send('JOIN #p');
      await ia.barrier();
    },
  },
  {
    name: 'IRC KICK reason',
    run: async (s) => {
      ia.send(`KICK #h vic :${oneLine(s)}`);
      await ia.barrier();
      await victimBack();
    },
  },
  { name: 'IRC AWAY', run: async (s) => (ia.send(`AWAY :x${oneLine(s)}`), ia.barrier()) },
  {
    name: 'IRC client tags',
    run: async (s) => {
      ia.send(`@+draft/react=${escapeTag(s)};+typing=active TAGMSG #h`);
      ia.send(`@+draft/reply=${escapeTag(s)} PRIVMSG #h :tagged`);
      for (const o of OBSERVERS) ia.send(`@+draft/react=${escapeTag(s)} TAGMSG ${o}`);
      await ia.barrier();
    },
  },
  { name: 'IRC JOIN', run: async (s) => (ia.send(`JOIN #${oneLine(s)}`), ia.barrier()) },
  {
    name: 'IRC INVITE channel',
    run: async (s) => {
      for (const o of OBSERVERS) ia.send(`INVITE ${o} #${oneLine(s)}`);
      await ia.barrier();
    },
  },
  {
    name: 'IRC MODE +b mask',
    run: async (s) => {
      ia.send(`MODE #h +b ${oneLine(s)}`);
      await ia.barrier();
      await clearBans();
    },
  },
  {
    name: 'IRC NICK',
    run: async (s) => {
      const me = session('ia');
      ia.send(`NICK ${oneLine(s)}`);
      await ia.barrier();
      await renameBack(me, 'ia', ia);
    },
  },
  {
    name: 'IRC realname and username',
    run: async (s) => {
      const name = `rn${++seq}`;
      const p = await IrcPeer.register(ports.irc, name, {
        realname: `x${fit(oneLine(s), 300)}`,
        // The username is a middle parameter: no spaces (nor a leading colon) in it.
        user: `u${fit(oneLine(s).replace(/ /g, ''), 100)}`,
      });
      await joinIrc(p, '#h');
      // Observers read realnames in WHO and WHOIS, asked while it is still here.
      io.send(`WHO #h`);
      io.send(`WHOIS ${name}`);
      await io.barrier();
      p.send('QUIT');
      await io.line(new RegExp(`^(?:@\\S+ )?:${name}!\\S+ QUIT `));
      p.close();
    },
  },
  {
    name: 'IRC QUIT',
    run: async (s) => {
      const name = `qi${++seq}`;
      const p = await IrcPeer.register(ports.irc, name);
      await joinIrc(p, '#lobby');
      p.send(`QUIT :${fit(oneLine(s), 400)}`);
      await seenQuit(name);
      p.close();
    },
  },
];

function jsonInjectors(label: string, peer: () => FramedPeer | WsPeer, me: string): Injector[] {
  const ask = async (m: object): Promise<Json> => peer().request(m);
  return [
    {
      name: `${label} say`,
      run: async (text) => void (await ask({ type: 'say', room: '#h', text })),
    },
    {
      name: `${label} me`,
      run: async (text) => void (await ask({ type: 'me', room: '#h', text })),
    },
    {
      name: `${label} dm`,
      run: async (text) => {
        for (const to of OBSERVERS) await ask({ type: 'dm', to, text });
      },
    },
    {
      name: `${label} topic`,
      run: async (topic) => void (await ask({ type: 'topic', room: '#h', topic })),
    },
    {
      name: `${label} part reason`,
      run: async (reason) => {
        await ask({ type: 'part', room: '#p', reason });
        await ask({ type: 'join', room: '#p' });
      },
    },
    {
      name: `${label} kick reason`,
      run: async (reason) => {
        await ask({ type: 'kick', room: '#h', name: 'vic', reason });
        await victimBack();
      },
    },
    { name: `${label} away`, run: async (s) => void (await ask({ type: 'away', text: `x${s}` })) },
    { name: `${label} join`, run: async (s) => void (await ask({ type: 'join', room: `#${s}` })) },
    {
      name: `${label} nick`,
      run: async (name) => {
        const s = session(me);
        await ask({ type: 'nick', name });
        await renameBack(s, me, peer());
      },
    },
    {
      name: `${label} quit`,
      run: async (reason) => {
        const name = `q${label[0]}${++seq}`;
        const p =
          label === 'framed'
            ? await FramedPeer.hello(ports.framed, name)
            : await WsPeer.hello(ports.http, name);
        // A reason past --topic-length is an invalid message: no quit to see then.
        const reply = await p.request({ type: 'quit', reason });
        if (reply.type === 'ok') await seenQuit(name);
        p.close();
      },
    },
  ];
}

const injectors: Injector[] = [
  ...lineInjectors,
  ...ircInjectors,
  ...jsonInjectors('framed', () => fa, 'fa'),
  ...jsonInjectors('ws', () => wa, 'wa'),
];

/** What observers ask about the rooms and the attackers (topics, away texts, realnames). */
async function observersAsk(): Promise<void> {
  lo.send('/who #h');
  lo.send('/rooms');
  lo.send('/topic');
  for (const a of ['la', 'ia', 'fa', 'wa']) lo.send(`/msg ${a} are you there`);
  io.send('WHO #h');
  io.send('NAMES #h');
  io.send('LIST');
  io.send('TOPIC #h');
  io.send('MODE #h');
  io.send('MODE #h b');
  for (const a of ['la', 'ia', 'fa', 'wa']) io.send(`WHOIS ${a}`);
  for (const p of [fo, wo]) {
    p.send({ type: 'who', room: '#h' });
    p.send({ type: 'rooms' });
    p.send({ type: 'topic', room: '#h' });
    p.send({ type: 'history', room: '#h', limit: 100 });
  }
  await Promise.all(observers().map((p) => p.barrier()));
}

test('no field of any protocol reaches another protocol with a control, separator or bidi override', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(hostile, { minLength: injectors.length, maxLength: injectors.length }),
      async (strings) => {
        const marks = new Map<AnyPeer, number>();
        for (const p of [...observers(), ...attackers(), vic]) marks.set(p, offset(p));
        const found: string[] = [];
        for (let i = 0; i < injectors.length; i++) {
          const injector = injectors[i] as Injector;
          // An injector that cannot finish (a quit nobody saw) is a finding, not a crash.
          await injector.run(strings[i] as string).catch((err: unknown) => {
            const lines = (err as Error).message.split('\n');
            found.push(`${injector.name}: ${[lines[0], ...lines.slice(-4)].join(' / ')}`);
          });
        }
        await observersAsk();
        for (const [p, name] of attackers().map(
          (p, i) => [p, ['la', 'ia', 'fa', 'wa'][i]] as const,
        )) {
          await partExtraRooms(session(name as string), p);
        }
        await Promise.all([...observers(), ...attackers(), vic].map((p) => p.barrier()));
        for (const p of [...observers(), vic]) found.push(...problems(p, marks.get(p) ?? 0));
        // An attacker's own error replies may echo its input; they must still parse.
        for (const p of attackers()) found.push(...problems(p, marks.get(p) ?? 0, false));
        expect(found).toEqual([]);
      },
    ),
    { numRuns: Number(process.env.HOSTILE_RUNS ?? 10), endOnFailure: true },
  );
});
