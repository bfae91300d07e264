/**
 * Issue 15: room names that look like another room or reorder the text around them.
 * C1 controls, bidi embeddings/overrides/isolates, zero-width characters and U+FFFD are
 * refused in a room name on every protocol (the line protocol removes controls and bidi
 * characters from its input first, so there they cannot reach a name at all), and no room
 * list ever shows one.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningServer } from '../../../src/server.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import { FramedPeer, IrcPeer, LinePeer, WsPeer, ATTACK_SERVER_FLAGS } from './peers.js';

const C1 = ['\u0080', '\u0085', '\u008d', '\u009b', '\u009f'];
const BIDI = [
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
];
const ZERO_WIDTH = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u180e'];
const BAD = [...C1, ...BIDI, ...ZERO_WIDTH, '\ufffd', '\u2028', '\u00a0', '\u3000'];
const hex = (c: string) => `U+${(c.codePointAt(0) as number).toString(16).toUpperCase()}`;

let server: RunningServer;
let line: LinePeer, irc: IrcPeer, framed: FramedPeer, ws: WsPeer;

beforeAll(async () => {
  server = await startTestServer([...ATTACK_SERVER_FLAGS]);
  line = await LinePeer.named(portOf(server, 'line'), 'liner');
  irc = await IrcPeer.register(portOf(server, 'irc'), 'ircer');
  framed = await FramedPeer.hello(portOf(server, 'framed'), 'framer');
  ws = await WsPeer.hello(portOf(server, 'http'), 'webber');
});

afterAll(async () => {
  for (const p of [line, irc, framed, ws]) p?.close();
  await server?.close();
});

/** No room in the room list (as a client asks for it) has a refused character. */
async function roomsAreClean(): Promise<void> {
  const reply = await framed.request({ type: 'rooms' });
  const names = (reply.rooms as { name: string }[]).map((r) => r.name);
  for (const c of BAD) {
    expect(names.filter((n) => n.includes(c)).map((n) => `${n} has ${hex(c)}`)).toEqual([]);
  }
}

test.each(BAD.map((c) => [hex(c), c]))(
  '%s in a room name is refused over JSON and IRC',
  async (_, c) => {
    const name = `#a${c}b`;
    for (const p of [framed, ws]) {
      const reply = await p.request({ type: 'join', room: name });
      expect(reply).toMatchObject({ type: 'error', code: 'room_invalid' });
    }
    irc.send(`JOIN ${name}`);
    await irc.line(/ 403 ircer /);
    await roomsAreClean();
  },
);

/** What the line protocol refuses itself; the rest it removes (controls, bidi) or splits on (spaces). */
const LINE_REFUSES = ['\u200b', '\u200c', '\u200d', '\u2060', '\u180e', '\ufffd'];

test.each(BAD.map((c) => [hex(c), c]))(
  '%s never reaches a room name over the line protocol',
  async (_, c) => {
    line.send(`/join #c${c}d`);
    const reply = await line.line(/^\* You joined |^! /);
    if (LINE_REFUSES.includes(c)) expect(reply).toMatch(/^! Invalid room /);
    const joined = /^\* You joined (#\S+)/.exec(reply)?.[1];
    if (joined) line.send(`/part ${joined}`);
    await line.barrier();
    await roomsAreClean();
  },
);

test('property: any name holding a refused character is refused, and no list shows one', async () => {
  const named = fc
    .tuple(
      fc.string({ unit: 'binary', maxLength: 10 }),
      fc.constantFrom(...BAD),
      fc.string({ unit: 'binary', maxLength: 10 }),
    )
    .map(([a, c, b]) => `#${a}${c}${b}`);
  await fc.assert(
    fc.asyncProperty(named, async (room) => {
      const reply = await framed.request({ type: 'join', room });
      expect(reply.type).toBe('error');
    }),
    { numRuns: 200 },
  );
  await roomsAreClean();
  const listed = await framed.request({ type: 'rooms' });
  const shown = JSON.stringify(listed);
  for (const c of BAD) expect(shown.includes(c)).toBe(false);
  irc.send('LIST');
  await irc.line(/ 323 ircer /);
  for (const c of BAD)
    expect(irc.raw.split('\r\n').some((l) => / 322 /.test(l) && l.includes(c))).toBe(false);
});
