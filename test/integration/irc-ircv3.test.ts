/**
 * IRCv3 and conformance details found with irctest: TAGMSG, away-notify on join,
 * echo-message to oneself under labeled-response, INFO, key and limit validation, and
 * the longest line a client can send without the trailing colon.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RawIrcClient } from '../helpers/irc-client.js';
import { ircClient, sync } from '../helpers/irc-setup.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

let server: RunningServer;
let irc: number;
let line: number;
let n = 0;
const nick = (base: string) => `${base}${++n}`;

beforeAll(async () => {
  server = await startTestServer(['--irc-port', '0', '--flood-rate', '0']);
  irc = portOf(server, 'irc');
  line = portOf(server, 'line');
});
afterAll(() => server.close());

/** Registers on the server's IRC port with `caps`. */
const withCaps = (name: string, caps: string) => ircClient(irc, name, caps);

describe('TAGMSG', () => {
  test('relayed with client tags to message-tags clients only; never to line users', async () => {
    const room = `#tags${++n}`;
    const a = await withCaps(nick('tagger'), 'message-tags echo-message');
    const bName = nick('tagged');
    const b = await withCaps(bName, 'message-tags');
    const plain = await RawIrcClient.register(irc, nick('plain'));
    const lineUser = await LineClient.named(line, nick('liner'));
    for (const c of [a, b, plain]) {
      c.send(`JOIN ${room}`);
      await c.expect(new RegExp(`JOIN ${room}`));
    }
    lineUser.send(`/join ${room}`);
    await lineUser.expect(new RegExp(`You joined ${room}|Joined ${room}|${room}`));
    a.send(`@+draft/react=👍;+typing=active TAGMSG ${room}`);
    const got = await b.expect(/ TAGMSG /);
    expect(got).toMatch(/^@[^ ]*\+draft\/react=👍/);
    expect(got).toMatch(/\+typing=active/);
    expect(got).toMatch(/msgid=/);
    expect(got).toMatch(new RegExp(` TAGMSG ${room}$`));
    // echo-message: the sender gets its own TAGMSG back.
    await a.expect(/ TAGMSG /);
    // A marker message after it: the plain IRC client and the line user see the marker,
    // and nothing of the TAGMSG before it.
    a.send(`PRIVMSG ${room} :after the tags`);
    await plain.expect(/after the tags/);
    expect(plain.lines.some((l) => l.includes('TAGMSG'))).toBe(false);
    await lineUser.expect(/after the tags/);
    expect(lineUser.lines.join('\n')).not.toMatch(/react|typing|TAGMSG/);
    // To a nick too.
    a.send(`@+typing=paused TAGMSG ${bName}`);
    await b.expect(new RegExp(`^@[^ ]*\\+typing=paused[^ ]* :\\S+ TAGMSG ${bName}$`));
    for (const c of [a, b, plain]) c.close();
    lineUser.close();
  });

  test('TAGMSG without a target is refused with 461', async () => {
    const c = await withCaps(nick('notarget'), 'message-tags');
    c.send('TAGMSG');
    await c.expect(/ 461 \S+ TAGMSG /);
    c.close();
  });
});

test('away-notify: members learn on join that the joiner is away; the joiner is not told', async () => {
  const room = `#away${++n}`;
  const watcher = await withCaps(nick('watcher'), 'away-notify');
  watcher.send(`JOIN ${room}`);
  await watcher.expect(new RegExp(`JOIN ${room}`));
  const awayName = nick('sleepy');
  const sleepy = await RawIrcClient.register(irc, awayName);
  sleepy.send('AWAY :gone fishing');
  await sleepy.expect(/ 306 /);
  sleepy.send(`JOIN ${room}`);
  await sleepy.expect(new RegExp(` 366 ${awayName} ${room} `));
  await watcher.expect(new RegExp(`^:${awayName}!\\S+ JOIN ${room}$`));
  await watcher.expect(new RegExp(`^:${awayName}!\\S+ AWAY :gone fishing$`));
  await sync(sleepy, 'joined');
  expect(sleepy.lines.some((l) => / AWAY /.test(l))).toBe(false);
  watcher.close();
  sleepy.close();
});

test('echo-message to oneself: two copies, only the echo carries the label', async () => {
  const me = nick('mirror');
  const c = await withCaps(me, 'echo-message batch labeled-response message-tags');
  c.send(`@label=abc PRIVMSG ${me} :hello me`);
  await c.expect(/hello me/);
  await c.expect(/hello me/);
  await sync(c, 'mirrored');
  const copies = c.lines.filter((l) => l.includes('hello me'));
  expect(copies).toHaveLength(2);
  expect(copies.filter((l) => l.includes('label=abc'))).toHaveLength(1);
  expect(c.lines.some((l) => / BATCH /.test(l))).toBe(false);
  // Without echo-message, a message to oneself still arrives once.
  const plainName = nick('solo');
  const plain = await RawIrcClient.register(irc, plainName);
  plain.send(`PRIVMSG ${plainName} :just once`);
  await plain.expect(/just once/);
  await sync(plain, 'solo');
  expect(plain.lines.filter((l) => l.includes('just once'))).toHaveLength(1);
  c.close();
  plain.close();
});

test('INFO answers RPL_INFO lines and RPL_ENDOFINFO', async () => {
  const me = nick('curious');
  const c = await RawIrcClient.register(irc, me);
  c.send('INFO');
  await c.expect(new RegExp(` 371 ${me} :plugboard-`));
  await c.expect(new RegExp(` 374 ${me} :End of INFO list`));
  c.close();
});

describe('channel key and limit validation', () => {
  test.each([
    ['empty', ''],
    ['spaces', 'pass phrase'],
    ['too long', 'k'.repeat(24)],
  ])('+k %s: ERR_INVALIDMODEPARAM with *, the channel stays open', async (_what, key) => {
    const room = `#key${++n}`;
    const me = nick('keyop');
    const c = await RawIrcClient.register(irc, me);
    c.send(`JOIN ${room}`);
    await c.expect(new RegExp(` 366 ${me} ${room} `));
    c.send(`MODE ${room} +k :${key}`);
    await c.expect(new RegExp(` 696 ${me} ${room} k \\* :Invalid key`));
    const other = await RawIrcClient.register(irc, nick('walkin'));
    other.send(`JOIN ${room}`);
    await other.expect(new RegExp(`JOIN ${room}$`));
    c.close();
    other.close();
  });

  test.each([
    ['empty', '', '\\*'],
    ['zero', '0', '0'],
    ['non-numeric', 'abc', 'abc'],
  ])('+l %s: ERR_INVALIDMODEPARAM', async (_what, limit, shown) => {
    const room = `#lim${++n}`;
    const me = nick('limop');
    const c = await RawIrcClient.register(irc, me);
    c.send(`JOIN ${room}`);
    await c.expect(new RegExp(` 366 ${me} ${room} `));
    c.send(`MODE ${room} +l :${limit}`);
    await c.expect(new RegExp(` 696 ${me} ${room} l ${shown} :Invalid limit`));
    c.close();
  });
});

test('a full-length line sent without the trailing colon is cut, not split in two', async () => {
  const to = nick('reader');
  const reader = await RawIrcClient.register(irc, to);
  const sender = await RawIrcClient.register(irc, nick('longwinded'));
  const room = 512 - `PRIVMSG ${to} `.length - 2;
  const payload = 'a'.repeat(room);
  sender.send(`PRIVMSG ${to} ${payload}`);
  const got = await reader.expect(/ PRIVMSG /);
  expect(Buffer.byteLength(got) + 2).toBeLessThanOrEqual(512);
  const text = got.slice(got.indexOf(' :') + 2);
  expect(payload.startsWith(text)).toBe(true);
  await sync(reader, 'cut');
  expect(reader.lines.filter((l) => l.includes(' PRIVMSG '))).toHaveLength(1);
  reader.close();
  sender.close();
});
