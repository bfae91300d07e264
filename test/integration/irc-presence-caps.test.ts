/**
 * IRCv3 presence capabilities over real sockets: MONITOR (730/731/732/733/734) with
 * extended-monitor, setname, WHOX, bot mode (the framed protocol's `hello` declares a bot
 * too) and invite-notify.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RawFramedClient } from '../helpers/framed-client.js';
import { RawIrcClient } from '../helpers/irc-client.js';
import { ircClient, sync } from '../helpers/irc-setup.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

let server: RunningServer;
let irc: number;
let n = 0;
const nick = (base: string) => `${base}${++n}`;

beforeAll(async () => {
  server = await startTestServer([
    '--irc-port',
    '0',
    '--framed-port',
    '0',
    '--flood-rate',
    '0',
    '--watch-limit',
    '3',
    '--realname-length',
    '20',
  ]);
  irc = portOf(server, 'irc');
});
afterAll(() => server.close());

/** Registers on the server's IRC port with `caps`. */
const withCaps = (name: string, caps: string) => ircClient(irc, name, caps);

/** The last parameter of a line (after ' :', or its last word when it has no colon). */
function lastParam(l: string): string {
  const i = l.indexOf(' :');
  return i >= 0 ? l.slice(i + 2) : l.slice(l.lastIndexOf(' ') + 1);
}

/** The lines `c` received after line `from`. */
const since = (c: RawIrcClient, from: number) => c.lines.slice(from);

async function quit(c: RawIrcClient): Promise<void> {
  c.send('QUIT :bye');
  await c.expect(/^ERROR /);
  c.close();
}

describe('ISUPPORT', () => {
  test('advertises MONITOR with the watch limit, WHOX and BOT', async () => {
    const c = await RawIrcClient.register(irc, nick('isup'));
    await c.expect(/ 005 .*MONITOR=3/);
    const all = c.lines.filter((l) => / 005 /.test(l)).join(' ');
    expect(all).toMatch(/ BOT=B /);
    expect(all).toMatch(/ WHOX /);
    c.send('CAP LS 302');
    const ls = await c.expect(/ CAP \S+ LS /);
    for (const cap of ['extended-monitor', 'setname', 'invite-notify']) expect(ls).toContain(cap);
    await quit(c);
  });
});

describe('MONITOR', () => {
  test('731 while offline, 730 with the mask when they register, 731 when they quit', async () => {
    const watcher = await RawIrcClient.register(irc, nick('watcher'));
    const target = nick('target');
    watcher.send(`MONITOR + ${target}`);
    await watcher.expect(new RegExp(` 731 \\S+ :?${target}$`));
    const t = await RawIrcClient.register(irc, target);
    await watcher.expect(new RegExp(` 730 \\S+ :?${target}!~?${target}@127\\.0\\.0\\.1$`));
    await quit(t);
    await watcher.expect(new RegExp(` 731 \\S+ :?${target}$`));
    await quit(watcher);
  });

  test('adding an online nick answers 730; a mixed list one of each', async () => {
    const on = nick('online');
    const off = nick('offline');
    const t = await RawIrcClient.register(irc, on);
    const w = await RawIrcClient.register(irc, nick('mixer'));
    w.send(`MONITOR + ${on},${off}`);
    await w.expect(new RegExp(` 730 \\S+ :?${on}!`));
    await w.expect(new RegExp(` 731 \\S+ :?${off}$`));
    w.send('MONITOR S');
    await w.expect(new RegExp(` 730 \\S+ :?${on}!`));
    await w.expect(new RegExp(` 731 \\S+ :?${off}$`));
    w.send('MONITOR L');
    const listed = await w.expect(/ 732 /);
    expect(lastParam(listed).split(',').sort()).toEqual([off, on].sort());
    await w.expect(/ 733 /);
    // Removed or cleared: nothing more about them.
    w.send(`MONITOR - ${on}`);
    w.send('MONITOR C');
    w.send('MONITOR L');
    await w.expect(/ 733 /);
    const mark = w.lines.length;
    await quit(t);
    const late = await RawIrcClient.register(irc, off);
    await sync(w);
    expect(since(w, mark).filter((l) => / 73[01] /.test(l))).toEqual([]);
    await quit(late);
    await quit(w);
  });

  test('a rename is 731 for the old nick and 730 for the new; a case change says nothing', async () => {
    const w = await RawIrcClient.register(irc, nick('renw'));
    const before = nick('before');
    const after = nick('after');
    w.send(`MONITOR + ${before},${after}`);
    await w.expect(new RegExp(` 731 \\S+ :?${before},${after}$`));
    const t = await RawIrcClient.register(irc, before);
    await w.expect(new RegExp(` 730 \\S+ :?${before}!`));
    t.send(`NICK ${after}`);
    await w.expect(new RegExp(` 731 \\S+ :?${before}$`));
    await w.expect(new RegExp(` 730 \\S+ :?${after}!~?${before}@`));
    const mark = w.lines.length;
    t.send(`NICK ${after.toUpperCase()}`);
    await t.expect(new RegExp(`NICK :${after.toUpperCase()}`));
    await sync(w);
    expect(since(w, mark).filter((l) => / 73[01] /.test(l))).toEqual([]);
    await quit(t);
    await w.expect(new RegExp(` 731 \\S+ :?${after.toUpperCase()}$`));
    await quit(w);
  });

  test('masks are refused, and the list stops at the limit with 734', async () => {
    const w = await RawIrcClient.register(irc, nick('limw'));
    w.send('MONITOR + *!user@127.0.0.1');
    await w.expect(/ 432 \S+ \*!user@127\.0\.0\.1 /);
    const names = [nick('l'), nick('l'), nick('l'), nick('l'), nick('l')];
    w.send(`MONITOR + ${names.join(',')}`);
    await w.expect(new RegExp(` 734 \\S+ 3 ${names[3]},${names[4]} :`));
    await w.expect(new RegExp(` 731 \\S+ :?${names.slice(0, 3).join(',')}$`));
    w.send('MONITOR L');
    const listed = await w.expect(/ 732 /);
    expect(lastParam(listed).split(',')).toHaveLength(3);
    await quit(w);
  });
});

describe('extended-monitor', () => {
  test('AWAY and SETNAME reach watchers with the capabilities, once, and no one else', async () => {
    const targetName = nick('extt');
    const t = await withCaps(targetName, 'setname');
    const ext = await withCaps(nick('extw'), 'extended-monitor away-notify setname');
    const plain = await withCaps(nick('plainw'), 'away-notify setname');
    // Shares a room with the target: the room event tells it, the watch must not again.
    const sharing = await withCaps(nick('sharew'), 'extended-monitor away-notify setname');
    const room = `#ext${++n}`;
    for (const c of [t, sharing]) {
      c.send(`JOIN ${room}`);
      await c.expect(/ 366 /);
    }
    for (const c of [ext, plain, sharing]) {
      c.send(`MONITOR + ${targetName}`);
      await c.expect(/ 730 /);
    }
    const marks = [ext, plain, sharing].map((c) => c.lines.length);
    t.send('AWAY :gone fishing');
    await t.expect(/ 306 /);
    await ext.expect(new RegExp(`^:${targetName}!\\S+ AWAY :gone fishing$`));
    t.send('SETNAME :New Name');
    await t.expect(/ SETNAME :New Name$/);
    await ext.expect(new RegExp(`^:${targetName}!\\S+ SETNAME :New Name$`));
    for (const c of [ext, plain, sharing]) await sync(c);
    const [e, p, s] = [ext, plain, sharing].map((c, i) =>
      since(c, marks[i] as number).filter((l) => / (AWAY|SETNAME) /.test(l)),
    );
    expect(e).toHaveLength(2);
    expect(p).toEqual([]);
    expect(s).toEqual([
      expect.stringMatching(/ AWAY :gone fishing$/),
      expect.stringMatching(/ SETNAME :New Name$/),
    ]);
    for (const c of [t, ext, plain, sharing]) await quit(c);
  });
});

describe('extended-monitor with accounts', () => {
  test('a watched client logging in after registration: its 900 first, then ACCOUNT to the watcher', async () => {
    const account = nick('acct');
    const owner = await RawIrcClient.register(irc, account);
    owner.send('PRIVMSG NickServ :REGISTER sesame123');
    await owner.expect(/NOTICE .* is now registered/);
    await quit(owner);
    const watcher = await withCaps(nick('accw'), 'extended-monitor account-notify');
    const watchedName = nick('accd');
    watcher.send(`MONITOR + ${watchedName}`);
    await watcher.expect(/ 731 /);
    const watched = await withCaps(watchedName, 'account-notify sasl');
    await watcher.expect(/ 730 /);
    const mark = watched.lines.length;
    watched.send('AUTHENTICATE PLAIN');
    await watched.expect(/^AUTHENTICATE \+$/);
    watched.send(`AUTHENTICATE ${Buffer.from(`\0${account}\0sesame123`).toString('base64')}`);
    await watched.expect(/ 903 /);
    await watcher.expect(new RegExp(`^:${watchedName}!\\S+ ACCOUNT ${account}$`));
    const after = since(watched, mark);
    expect(after.findIndex((l) => / 900 /.test(l))).toBe(1);
    await quit(watched);
    await quit(watcher);
  });
});

describe('setname', () => {
  test('members with the cap and the sender see SETNAME; WHOIS and WHO show it', async () => {
    const room = `#sn${++n}`;
    const aName = nick('sna');
    const a = await withCaps(aName, 'setname');
    const b = await withCaps(nick('snb'), 'setname');
    const c = await RawIrcClient.register(irc, nick('snc'));
    for (const x of [a, b, c]) {
      x.send(`JOIN ${room}`);
      await x.expect(/ 366 /);
    }
    const mark = c.lines.length;
    // Control characters go (the core's cleaning rule).
    a.send('SETNAME :Ada \x1b[31mLovelace');
    await a.expect(/ SETNAME :Ada \[31mLovelace$/);
    await b.expect(new RegExp(`^:${aName}!\\S+ SETNAME :Ada \\[31mLovelace$`));
    c.send(`WHOIS ${aName}`);
    await c.expect(new RegExp(` 311 \\S+ ${aName} \\S+ \\S+ \\* :Ada \\[31mLovelace$`));
    c.send(`WHO ${room}`);
    await c.expect(new RegExp(` 352 .* ${aName} H\\S* :0 Ada \\[31mLovelace$`));
    expect(since(c, mark).filter((l) => / SETNAME /.test(l))).toEqual([]);
    for (const x of [a, b, c]) await quit(x);
  });

  test('an empty or over-long realname gets FAIL SETNAME INVALID_REALNAME', async () => {
    const a = await withCaps(nick('snf'), 'setname');
    a.send('SETNAME :\x01\x02');
    await a.expect(/ FAIL SETNAME INVALID_REALNAME :/);
    a.send(`SETNAME :${'x'.repeat(21)}`);
    await a.expect(/ FAIL SETNAME INVALID_REALNAME :.*20 bytes/);
    await quit(a);
  });
});

describe('WHOX', () => {
  test('WHO mask %fields,token answers 354 with the fields asked for, in order', async () => {
    const tName = nick('whox');
    const t = await RawIrcClient.register(irc, tName);
    const v = await RawIrcClient.register(irc, nick('whov'));
    v.send(`WHO ${tName} %tnuhraf,42`);
    await v.expect(new RegExp(` 354 \\S+ 42 ~?${tName} 127\\.0\\.0\\.1 ${tName} H 0 :?${tName}$`));
    await v.expect(/ 315 /);
    await quit(t);
    await quit(v);
  });
});

describe('bot mode', () => {
  test('MODE +B: WHOIS 335, the B flag in WHO, and the bot tag on its messages', async () => {
    const botName = nick('beep');
    const bot = await RawIrcClient.register(irc, botName);
    bot.send(`MODE ${botName} +B`);
    await bot.expect(new RegExp(`MODE ${botName} :\\+B$`));
    const user = await withCaps(nick('human'), 'message-tags');
    user.send(`WHOIS ${botName}`);
    await user.expect(new RegExp(` 335 \\S+ ${botName} :`));
    const room = `#bots${++n}`;
    for (const c of [bot, user]) {
      c.send(`JOIN ${room}`);
      await c.expect(/ 366 /);
    }
    user.send(`WHO ${room}`);
    await user.expect(new RegExp(` 352 .* ${botName} HB`));
    bot.send(`PRIVMSG ${room} :beep boop`);
    const got = await user.expect(/ PRIVMSG .* :beep boop$/);
    expect(got).toMatch(/^@(\S*;)?bot[; ]/);
    bot.send(`MODE ${botName} -B`);
    await bot.expect(new RegExp(`MODE ${botName} :-B$`));
    bot.send(`PRIVMSG ${room} :human now`);
    const plain = await user.expect(/ PRIVMSG .* :human now$/);
    expect(plain).not.toMatch(/^@(\S*;)?bot[; ]/);
    await quit(bot);
    await quit(user);
  });

  test('a framed client declares itself a bot in hello', async () => {
    const botName = nick('fbot');
    const bot = await RawFramedClient.connect(portOf(server, 'framed'));
    bot.send({ type: 'hello', name: botName, bot: true });
    await bot.expect((m) => m.type === 'welcome');
    const userName = nick('fhum');
    const user = await withCaps(userName, 'message-tags');
    user.send(`WHOIS ${botName}`);
    await user.expect(new RegExp(` 335 \\S+ ${botName} :`));
    bot.send({ type: 'dm', to: userName, text: 'hello human', ref: 1 });
    const got = await user.expect(/ PRIVMSG .* :hello human$/);
    expect(got).toMatch(/^@(\S*;)?bot[; ]/);
    // JSON `who` marks it too.
    bot.send({ type: 'who', room: '#lobby', ref: 2 });
    const who = await bot.expect((m) => m.type === 'who' && m.ref === 2);
    expect(who.members).toContainEqual(expect.objectContaining({ name: botName, bot: true }));
    bot.close();
    await quit(user);
  });
});

describe('invite-notify', () => {
  test('members who asked see the INVITE; the inviter, others and line users do not', async () => {
    const room = `#inv${++n}`;
    const opName = nick('invop');
    const op = await withCaps(opName, 'invite-notify');
    const notified = await withCaps(nick('invn'), 'invite-notify');
    const plain = await RawIrcClient.register(irc, nick('invp'));
    const line = await LineClient.named(portOf(server, 'line'), nick('invl'));
    for (const c of [op, notified, plain]) {
      c.send(`JOIN ${room}`);
      await c.expect(/ 366 /);
    }
    line.send(`/join ${room}`);
    await line.expect(new RegExp(`You joined ${room}`));
    const guestName = nick('guest');
    const guest = await RawIrcClient.register(irc, guestName);
    const marks = [op, plain].map((c) => c.lines.length);
    op.send(`INVITE ${guestName} ${room}`);
    await op.expect(/ 341 /);
    await guest.expect(new RegExp(`^:${opName}!\\S+ INVITE ${guestName} ${room}$`));
    await notified.expect(new RegExp(`^:${opName}!\\S+ INVITE ${guestName} ${room}$`));
    await sync(op);
    await sync(plain);
    expect(since(op, marks[0] as number).filter((l) => / INVITE /.test(l))).toEqual([]);
    expect(since(plain, marks[1] as number).filter((l) => / INVITE /.test(l))).toEqual([]);
    line.send('/who');
    await line.expect(/invl/);
    expect(line.lines.some((l) => /invite/i.test(l))).toBe(false);
    for (const c of [op, notified, plain, guest]) await quit(c);
    line.close();
  });
});
