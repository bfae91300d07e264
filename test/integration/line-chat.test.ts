import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

let server: RunningServer;
let port: number;
let n = 0;
/** Unique names per test so tests sharing the server never collide. */
const unique = (base: string) => `${base}${++n}`;

beforeAll(async () => {
  server = await startTestServer(['--flood-rate', '0', '--history-on-join', '3']);
  port = portOf(server, 'line');
});
afterAll(() => server.close());

describe('line protocol', () => {
  test('banner tells the server name and how many are online, then asks for a name', async () => {
    const c = await LineClient.connect(port);
    const banner = await c.expect(/^Welcome to Plugboard/);
    expect(banner).toMatch(/test\.plugboard\. \d+ (people|person) online\./);
    await c.expect(/^Choose a name: $/);
    c.close();
  });

  test('three people chat in #lobby with join and leave notices', async () => {
    const [a, b] = [unique('alice'), unique('bob')];
    const ca = await LineClient.named(port, a);
    const cb = await LineClient.named(port, b);
    await ca.expect(new RegExp(`^\\* ${b} joined #lobby$`));
    cb.send('hello, 世界 🎉');
    await ca.expect(new RegExp(`^\\[\\d\\d:\\d\\d\\] <${b}> hello, 世界 🎉$`));
    const c = unique('carol');
    const cc = await LineClient.named(port, c);
    cc.send('/me waves');
    await ca.expect(new RegExp(`^\\[\\d\\d:\\d\\d\\] \\* ${c} waves$`));
    await cb.expect(new RegExp(`\\* ${c} waves$`));
    cc.send('/quit gotta go');
    await cc.waitClosed();
    await ca.expect(new RegExp(`^\\* ${c} left \\(quit: gotta go\\)$`));
    cb.close();
    await ca.expect(new RegExp(`^\\* ${b} left \\(`));
    ca.close();
  });

  test('the sender does not get an echo of plain text', async () => {
    const a = await LineClient.named(port, unique('echo'));
    const b = await LineClient.named(port, unique('echo'));
    a.send('one');
    await b.expect(/<echo\d+> one/);
    a.send('/who');
    await a.expect(/^\* In #lobby/);
    expect(a.lines.some((l) => /<echo\d+> one/.test(l))).toBe(false);
    a.close();
    b.close();
  });

  test('names: taken (case-insensitively), invalid and empty names are refused and asked again', async () => {
    const name = unique('Dave');
    const first = await LineClient.named(port, name);
    const c = await LineClient.connect(port);
    await c.expect(/Choose a name: /);
    c.send(name.toLowerCase());
    await c.expect(/^! The name .* is already in use$/);
    await c.expect(/Choose a name: /);
    c.send('9lives');
    await c.expect(/^! Invalid name "9lives": a name starts with an ASCII letter/);
    await c.expect(/Choose a name: /);
    c.send('');
    await c.expect(/^! A name cannot be empty$/);
    await c.expect(/Choose a name: /);
    c.send('has space');
    await c.expect(/^! Invalid name/);
    c.send(unique('dave_ok'));
    await c.expect(/^\* Welcome, dave_ok\d+!/);
    c.close();
    first.close();
  });

  test('/nick renames, and others are told', async () => {
    const a = await LineClient.named(port, unique('nicka'));
    const b = await LineClient.named(port, unique('nickb'));
    const newName = unique('renamed');
    b.send(`/nick ${newName}`);
    await b.expect(new RegExp(`^\\* You are now known as ${newName}$`));
    await a.expect(new RegExp(`^\\* nickb\\d+ is now known as ${newName}$`));
    b.send('/nick');
    await b.expect(/^! usage: \/nick NAME$/);
    b.send('/nick 9lives');
    await b.expect(/^! Invalid name/);
    a.close();
    b.close();
  });

  test('rooms: join creates, several rooms, prefixes from other rooms, switch, part, rooms, who', async () => {
    const room = `#${unique('dev')}`;
    const a = await LineClient.named(port, unique('ra'));
    const b = await LineClient.named(port, unique('rb'));
    a.send(`/join ${room.slice(1)}`); // '#' is optional
    await a.expect(
      new RegExp(`^\\* You joined ${room} \\(new room: you are its operator\\); 0 others here$`),
    );
    b.send(`/join ${room}`);
    await a.expect(new RegExp(`^\\* rb\\d+ joined ${room}$`));
    // b's current room is now `room`; a switches back to #lobby and sees b's lines prefixed.
    a.send('/switch #lobby');
    await a.expect(/^\* Your current room is now #lobby$/);
    b.send('in the dev room');
    await a.expect(new RegExp(`^\\[\\d\\d:\\d\\d\\] ${room} <rb\\d+> in the dev room$`));
    a.send(`/switch ${room}`);
    a.send('/topic Dev talk');
    await b.expect(new RegExp(`^\\* ra\\d+ set the topic of ${room} to: Dev talk$`));
    b.send('/topic hijack');
    await b.expect(/^! Only operators may set the topic/);
    a.send('/rooms');
    await a.expect(new RegExp(`^\\*   ${room} \\(2\\) Dev talk$`));
    a.send(`/who ${room}`);
    await a.expect(new RegExp(`^\\* In ${room} \\(2\\): @ra\\d+, rb\\d+$`));
    b.send(`/part ${room}`);
    await a.expect(new RegExp(`^\\* rb\\d+ left ${room}$`));
    await b.expect(/^\* Your current room is now #lobby$/);
    b.send('/switch #nowhere');
    await b.expect(/^! No such room: #nowhere$/);
    b.send('/join');
    await b.expect(/^! usage: \/join ROOM \[KEY\]$/);
    b.send('/join #bad,room');
    await b.expect(/^! Invalid room/);
    a.close();
    b.close();
  });

  test('private messages, away replies and unknown users', async () => {
    const a = await LineClient.named(port, unique('pa'));
    const bName = unique('pb');
    const b = await LineClient.named(port, bName);
    a.send(`/msg ${bName} psst, secret`);
    await b.expect(/^\[\d\d:\d\d\] \*pa\d+\* psst, secret$/);
    await a.expect(new RegExp(`^\\[\\d\\d:\\d\\d\\] -> \\*${bName}\\* psst, secret$`));
    b.send('/away lunch');
    await b.expect(/^\* You are marked away: lunch$/);
    a.send(`/msg ${bName} are you there`);
    await a.expect(new RegExp(`^\\* ${bName} is away: lunch$`));
    a.send('/msg nobody_here hi');
    await a.expect(/^! No one is called nobody_here$/);
    a.send('/msg onlyname');
    await a.expect(/^! usage: \/msg NAME TEXT$/);
    b.send('/away');
    await b.expect(/^\* You are no longer marked away$/);
    a.close();
    b.close();
  });

  test('/history shows recent messages; joining replays them', async () => {
    const room = `#${unique('hist')}`;
    const a = await LineClient.named(port, unique('ha'));
    a.send(`/join ${room}`);
    await a.expect(/You joined/);
    for (const t of ['first', 'second', 'third', 'fourth']) a.send(t);
    a.send('/history 2');
    await a.expect(new RegExp(`^\\* Last 2 messages in ${room}:$`));
    await a.expect(/<ha\d+> third$/);
    await a.expect(/<ha\d+> fourth$/);
    const b = await LineClient.named(port, unique('hb'));
    b.send(`/join ${room}`);
    await b.expect(new RegExp(`^\\* Last 3 messages in ${room}:$`));
    await b.expect(/<ha\d+> second$/);
    b.send('/history x');
    await b.expect(/^! usage: \/history \[N\]/);
    a.close();
    b.close();
  });

  test('/help lists every command; unknown commands are explained', async () => {
    const a = await LineClient.named(port, unique('help'));
    a.send('/help');
    for (const c of [
      '/help',
      '/nick',
      '/join',
      '/part',
      '/switch',
      '/rooms',
      '/who',
      '/msg',
      '/me',
      '/topic',
      '/away',
      '/history',
      '/quit',
    ]) {
      await a.expect(new RegExp(`^\\*   ${c.replace('/', '\\/')}\\b`));
    }
    a.send('/frobnicate');
    await a.expect(/^! Unknown command \/frobnicate\. Type \/help for the list\.$/);
    a.send('//not a command');
    a.close();
  });

  test('terminal escape sequences from one user never reach another', async () => {
    const a = await LineClient.named(port, unique('esc'));
    const b = await LineClient.named(port, unique('esc'));
    a.write(Buffer.from('\x1b[2J\x1b]0;pwned\x07red\x9b31m text\n'));
    const got = await b.expect(/red/);
    expect(got).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(got).toMatch(/<esc\d+> \[2J\]0;pwnedred31m text$/);
    a.close();
    b.close();
  });

  test('telnet option negotiation is answered and never shown to others', async () => {
    const a = await LineClient.named(port, unique('tel'));
    const b = await LineClient.connect(port);
    await b.expect(/Choose a name/);
    // DO TERMINAL-TYPE (we do not send one: refused), WILL NAWS (welcome: agreed).
    b.write(Buffer.from([255, 253, 24, 255, 251, 31]));
    b.write(Buffer.from(`${unique('telnetuser')}\r\n`));
    await b.expect(/Welcome, telnetuser/);
    expect(b.raw.includes(Buffer.from([255, 252, 24]))).toBe(true);
    expect(b.raw.includes(Buffer.from([255, 253, 31]))).toBe(true);
    b.write(Buffer.from([0x68, 0x69, 255, 241, 0x21, 13, 10])); // "hi" IAC NOP "!" CRLF
    await a.expect(/<telnetuser\d+> hi!$/);
    expect(a.raw.includes(255)).toBe(false);
    a.close();
    b.close();
  });

  test('binary junk costs only that connection, and nothing else breaks', async () => {
    const a = await LineClient.named(port, unique('calm'));
    const junk = await LineClient.named(port, unique('junk'));
    const bytes = Buffer.alloc(20_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) & 0xff;
    junk.write(bytes);
    junk.write('\nstill here\n');
    await a.expect(/<junk\d+> still here$/);
    const b = await LineClient.named(port, unique('after'));
    b.send('fine');
    await a.expect(/<after\d+> fine$/);
    a.close();
    b.close();
    junk.close();
  });

  test('one limit for what a line can say: every length over it gets the same answer', async () => {
    const an = unique('long');
    const a = await LineClient.named(port, an);
    const bn = unique('long');
    const b = await LineClient.named(port, bn);
    const refusal = /^! Message too long \(at most 4000 bytes\); nothing was sent$/;
    // Just over the limit, past the old 4,096-byte cut, and far past it: the same answer.
    for (const n of [4001, 4064, 4065, 4096, 4097, 10_000]) {
      a.send('y'.repeat(n));
      await a.expect(refusal);
      a.send(`/me ${'y'.repeat(n)}`);
      await a.expect(refusal);
      a.send(`/msg ${bn} ${'y'.repeat(n)}`);
      await a.expect(refusal);
    }
    // Multi-byte text counts in bytes: 1,334 three-byte characters are 4,002 bytes.
    a.send('本'.repeat(1334));
    await a.expect(refusal);
    // At the limit everything is said in full, with or without a command before it.
    a.send('z'.repeat(4000));
    expect(Buffer.byteLength(await b.expect(/<long\d+> z+$/))).toBe(8 + an.length + 3 + 4000);
    a.send(`/msg ${bn} ${'w'.repeat(4000)}`);
    expect((await b.expect(/\*long\d+\* w+$/)).endsWith('w'.repeat(4000))).toBe(true);
    a.send('next line is fine');
    await b.expect(/next line is fine$/);
    expect(b.lines.some((l) => /y{100}/.test(l))).toBe(false);
    a.close();
    b.close();
  });
});
