/**
 * The history an IRC client is sent on JOIN (issue 16): split to the line limit exactly
 * as live delivery is, and visibly a replay for clients that cannot show it as one.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RawIrcClient } from '../helpers/irc-client.js';
import { ask, ircClient, untag } from '../helpers/irc-setup.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

let server: RunningServer;
let irc: number;
let line: number;
let n = 0;
const unique = (base: string) => `${base}${++n}`;

beforeAll(async () => {
  server = await startTestServer(['--irc-port', '0', '--flood-rate', '0']);
  irc = portOf(server, 'irc');
  line = portOf(server, 'line');
});
afterAll(() => server.close());

/** Registers with `caps` (none: no CAP at all). */
const client = (name: string, caps: string) => ircClient(irc, name, caps);

/**
 * Joins `room` and returns every line the join produced: commands run in order, so the
 * PONG to a PING sent after JOIN comes after the whole replay.
 */
const joinAndCollect = (c: RawIrcClient, room: string) => ask(c, `JOIN ${room}`, 5000);

/** A line's bytes on the wire (without its tags), with CR LF. */
const wireBytes = (l: string) => Buffer.byteLength(untag(l)) + 2;

/** The text (trailing parameter) of each PRIVMSG among `lines`. */
function texts(lines: string[], room: string): string[] {
  const head = ` PRIVMSG ${room} :`;
  return lines
    .map(untag)
    .filter((l) => l.includes(head))
    .map((l) => l.slice(l.indexOf(head) + head.length));
}

/** The original time at the start of a replayed line (the date too when not today). */
const STAMP = /^\[(?:\d{4}-\d\d-\d\d )?\d\d:\d\d\] /;

/** 3,000 characters of words, with a few multi-byte ones (a cut must not split them). */
const LONG = Array.from({ length: 500 }, (_, i) => (i % 50 === 49 ? 'ナ本' : `w${i % 10}xyz`))
  .join(' ')
  .slice(0, 3000);

async function talker(room: string): Promise<LineClient> {
  const t = await LineClient.named(line, unique('talker'));
  t.send(`/join ${room}`);
  await t.expect(new RegExp(`You joined ${room}`));
  return t;
}

test('a 3,000-character line from nc is replayed in lines within 512 bytes, nothing lost', async () => {
  const room = unique('#long');
  const t = await talker(room);
  t.send(LONG);
  t.send('/history 1');
  await t.expect(/w0xyz/);
  for (const caps of ['server-time batch message-tags', 'server-time', '']) {
    const c = await client(unique('late'), caps);
    const got = joinAndCollect(c, room);
    const lines = await got;
    const pieces = texts(lines, room);
    expect(pieces.length, caps).toBeGreaterThan(5);
    for (const l of lines) expect(wireBytes(l), `${caps}: ${l}`).toBeLessThanOrEqual(512);
    // Without a batch each piece carries its time; the pieces joined are the line.
    const bare = caps.includes('batch') ? pieces : pieces.map((p) => p.replace(STAMP, ''));
    expect(bare.join(''), caps).toBe(LONG);
    c.close();
  }
  t.close();
});

test('replay splits as live delivery does: the same lines, byte for byte', async () => {
  const room = unique('#same');
  const t = await talker(room);
  const live = await client(unique('live'), 'server-time batch');
  const speaker = await client(unique('speaker'), '');
  for (const c of [live, speaker]) {
    c.send(`JOIN ${room}`);
    await c.expect(new RegExp(` 366 \\S+ ${room} `));
  }
  // Split: longer than any IRC line.
  t.send(LONG);
  await live.expect(/ PRIVMSG .*ナ本/);
  // Cut: the longest line an IRC client can send, which the relayed prefix pushes past
  // 512 bytes; live delivery cuts it to one line, and so must the replay.
  const command = `PRIVMSG ${room} :`;
  speaker.send(command + 'y'.repeat(510 - Buffer.byteLength(command)));
  await live.expect(/ PRIVMSG .*:y{100}/);
  live.send('PING :live');
  await live.expect(/ PONG .*live/);
  const liveLines = live.lines.filter((l) => l.includes(' PRIVMSG ')).map(untag);
  const late = await client(unique('late'), 'server-time batch');
  const replayed = (await joinAndCollect(late, room))
    .filter((l) => l.includes(' PRIVMSG '))
    .map(untag);
  expect(replayed).toEqual(liveLines);
  for (const c of [live, late, speaker, t]) c.close();
});

test('without batch, the replay is announced and each line carries its original time', async () => {
  const room = unique('#marked');
  const t = await talker(room);
  t.send('first words');
  t.send('/me waves');
  t.send('/history 2');
  await t.expect(/waves/);
  for (const caps of ['', 'server-time']) {
    const c = await client(unique('plain'), caps);
    const lines = (await joinAndCollect(c, room)).map(untag);
    const start = lines.findIndex((l) => / NOTICE /.test(l));
    expect(start, caps).toBeGreaterThan(-1);
    expect(lines[start]).toMatch(
      new RegExp(
        `^:test\\.plugboard NOTICE ${room} :Last 2 messages in ${room}, since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d \\(server time\\):$`,
      ),
    );
    expect(lines.slice(start + 1)).toEqual([
      expect.stringMatching(new RegExp(` PRIVMSG ${room} :${STAMP.source.slice(1)}first words$`)),
      expect.stringMatching(
        new RegExp(` PRIVMSG ${room} :\\x01ACTION ${STAMP.source.slice(1)}waves\\x01$`),
      ),
    ]);
    c.close();
  }
  t.close();
});

test('with server-time and batch, the replay is the chathistory batch with untouched text', async () => {
  const room = unique('#batched');
  const t = await talker(room);
  t.send('kept as said');
  t.send('/history 1');
  await t.expect(/kept as said/);
  const c = await client(unique('modern'), 'server-time batch');
  const lines = await joinAndCollect(c, room);
  const open = lines.findIndex((l) => / BATCH \+\S+ chathistory /.test(l));
  expect(open).toBeGreaterThan(-1);
  const id = /BATCH \+(\S+)/.exec(lines[open] as string)?.[1] as string;
  expect(lines.slice(open + 1)).toEqual([
    expect.stringMatching(
      new RegExp(`^@batch=${id};time=\\S+ :\\S+ PRIVMSG ${room} :kept as said$`),
    ),
    `:test.plugboard BATCH -${id}`,
  ]);
  expect(lines.some((l) => / NOTICE /.test(l))).toBe(false);
  c.close();
  t.close();
});
