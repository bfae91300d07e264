/**
 * CHGHOST over real sockets (core/hosts.ts, protocols/irc/host-lines.ts): an operator
 * changes someone's displayed host; clients with the IRCv3 `chghost` capability get
 * CHGHOST, others sharing a room the spec's QUIT and JOIN (with the person's channel
 * modes), the person without the capability RPL_HOSTHIDDEN; WHOIS, WHO and NAMES show the
 * new host; bans match it, and the real address still; non-operators get 481, bad hosts a
 * FAIL. Run with PLUGBOARD_TEST_BUS=async too (npm run test:async-bus).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ask, ircClient, type NamedIrcClient } from '../helpers/irc-setup.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

let server: RunningServer;
let irc: number;
let line: number;
let n = 0;
const unique = (base: string) => `${base}${(++n).toString(36)}${Date.now().toString(36).slice(-3)}`;

beforeAll(async () => {
  server = await startTestServer(['--irc-port', '0', '--flood-rate', '0', '--oper', 'boss:pw']);
  irc = portOf(server, 'irc');
  line = portOf(server, 'line');
});
afterAll(() => server.close());

/** Registers with `caps` ('': no CAP at all). */
const client = (nick: string, caps = '') =>
  ircClient(irc, nick, caps, { realname: `${nick} real` });

async function oper(): Promise<NamedIrcClient> {
  const o = await client(unique('boss'));
  o.send('OPER boss pw');
  await o.expect(/ 381 /);
  return o;
}

describe('CHGHOST', () => {
  test('chghost clients get CHGHOST, others QUIT and JOIN with modes, the person 396', async () => {
    const room = `#${unique('h')}`;
    const alice = await client(unique('alice'), 'chghost');
    const bob = await client(unique('bob'));
    const carol = await client(unique('carol'), 'chghost extended-join away-notify');
    const dan = await client(unique('dan'));
    await ask(alice, `JOIN ${room}`); // alice is the room's operator
    await ask(bob, `JOIN ${room}`);
    await ask(carol, `JOIN ${room}`);
    await ask(dan, `JOIN ${room}`);
    await ask(dan, 'AWAY :lunch');
    const boss = await oper();

    const told = await ask(boss, `CHGHOST ${alice.nick} staff/alice`);
    expect(told.join('\n')).toContain(
      `NOTICE ${boss.nick} :The displayed host of ${alice.nick} is now staff/alice`,
    );
    const old = `${alice.nick}!~${alice.nick}@127.0.0.1`;
    expect(await alice.expect(/ CHGHOST /)).toBe(`:${old} CHGHOST ~${alice.nick} staff/alice`);
    expect(await carol.expect(/ CHGHOST /)).toBe(`:${old} CHGHOST ~${alice.nick} staff/alice`);
    // The fallback, in the order the spec gives: QUIT, JOIN, then the modes.
    await bob.expect(/ QUIT :Changing host$/);
    const after = await ask(bob, 'PING :x');
    const since = bob.lines.slice(bob.lines.findIndex((l) => l.endsWith('QUIT :Changing host')));
    expect(since.slice(0, 3)).toEqual([
      `:${old} QUIT :Changing host`,
      `:${alice.nick}!~${alice.nick}@staff/alice JOIN ${room}`,
      `:test.plugboard MODE ${room} +o ${alice.nick}`,
    ]);
    expect(after.length).toBeGreaterThan(0);

    // dan is away and has no chghost: alice sees him quit and rejoin, with his away text
    // only for away-notify; alice herself gets no 396 for someone else.
    await ask(boss, `CHGHOST ${dan.nick} cloak.example`);
    expect(await dan.expect(/ 396 /)).toBe(
      `:test.plugboard 396 ${dan.nick} cloak.example :is now your displayed host`,
    );
    expect(await alice.expect(/ CHGHOST /)).toBe(
      `:${dan.nick}!~${dan.nick}@127.0.0.1 CHGHOST ~${dan.nick} cloak.example`,
    );
    expect(await bob.expect(new RegExp(`^:${dan.nick}!\\S+ JOIN `))).toBe(
      `:${dan.nick}!~${dan.nick}@cloak.example JOIN ${room}`,
    );
    const carolSaw = await carol.expect(new RegExp(`:${dan.nick}!\\S+ CHGHOST `));
    expect(carolSaw).toContain('CHGHOST');

    // WHOIS, WHO and NAMES show the new host.
    const whois = await ask(bob, `WHOIS ${alice.nick}`);
    expect(whois.find((l) => / 311 /.test(l))).toBe(
      `:test.plugboard 311 ${bob.nick} ${alice.nick} ~${alice.nick} staff/alice * :${alice.nick} real`,
    );
    const who = await ask(bob, `WHO ${room}`);
    expect(who.find((l) => l.includes(` ${alice.nick} H`))).toContain(
      ` ~${alice.nick} staff/alice `,
    );
    for (const c of [alice, bob, carol, dan, boss]) c.close();
  });

  test('bans match the new host, and the real address still', async () => {
    const room = `#${unique('b')}`;
    const op = await client(unique('op'));
    await ask(op, `JOIN ${room}`);
    const eve = await client(unique('eve'));
    const boss = await oper();
    await ask(boss, `CHGHOST ${eve.nick} eve.cloak`);
    await eve.expect(/ 396 /);
    await ask(op, `MODE ${room} +b *!*@eve.cloak`);
    expect((await ask(eve, `JOIN ${room}`)).join('\n')).toMatch(/ 474 /);
    await ask(op, `MODE ${room} -b *!*@eve.cloak`);
    await ask(op, `MODE ${room} +b *!*@127.0.0.1`);
    expect((await ask(eve, `JOIN ${room}`)).join('\n')).toMatch(/ 474 /);
    await ask(op, `MODE ${room} -b *!*@127.0.0.1`);
    expect((await ask(eve, `JOIN ${room}`)).join('\n')).toMatch(
      new RegExp(`:${eve.nick}!~${eve.nick}@eve.cloak JOIN ${room}`),
    );
    for (const c of [op, eve, boss]) c.close();
  });

  test('a line-protocol user: IRC members see the change, the line user sees no host', async () => {
    const room = `#${unique('l')}`;
    const watcher = await client(unique('w'), 'chghost');
    await ask(watcher, `JOIN ${room}`);
    const name = unique('tel');
    const tel = await LineClient.named(line, name);
    tel.send(`/join ${room}`);
    await tel.expect(/You joined/);
    await watcher.expect(new RegExp(`:${name}!\\S+ JOIN ${room}`));
    const boss = await oper();
    await ask(boss, `CHGHOST ${name} line.cloak`);
    expect(await watcher.expect(/ CHGHOST /)).toBe(
      `:${name}!${name}@127.0.0.1 CHGHOST ${name} line.cloak`,
    );
    expect((await ask(watcher, `WHOIS ${name}`)).find((l) => / 311 /.test(l))).toContain(
      ` ${name} line.cloak * `,
    );
    tel.send('/me waves');
    expect(await watcher.expect(/ waves/)).toMatch(
      new RegExp(`^:${name}!${name}@line.cloak PRIVMSG`),
    );
    expect(tel.lines.join('\n')).not.toMatch(/cloak|Changing host/);
    tel.close();
    watcher.close();
    boss.close();
  });

  test('refused: 481 for non-operators, FAIL for a bad host, 401 for no one', async () => {
    const mallory = await client(unique('mal'));
    expect((await ask(mallory, `CHGHOST ${mallory.nick} evil.host`)).join('\n')).toMatch(
      new RegExp(` 481 ${mallory.nick} :Permission Denied`),
    );
    const boss = await oper();
    for (const bad of [
      'bad*host',
      'a@b',
      'x!y',
      'a,b',
      'what?',
      '::lead',
      'é.example',
      `${'a'.repeat(64)}`,
      ':"two words"',
    ]) {
      const reply = await ask(
        boss,
        `CHGHOST ${mallory.nick} ${bad.startsWith(':"') ? ':two words' : bad}`,
      );
      expect(reply.join('\n'), bad).toMatch(
        new RegExp(`FAIL CHGHOST INVALID_HOST ${mallory.nick} :`),
      );
    }
    expect((await ask(boss, `CHGHOST ${mallory.nick} ${'a'.repeat(63)}`)).join('\n')).toMatch(
      /NOTICE/,
    );
    expect((await ask(boss, 'CHGHOST nobody-here x.y')).join('\n')).toMatch(/ 401 /);
    expect((await ask(boss, 'CHGHOST onlyone')).join('\n')).toMatch(/ 461 /);
    mallory.close();
    boss.close();
  });
});

/**
 * One operator for the tests below: OPER is rate-limited per address (moderation.ts), and
 * the tests above have used most of the allowance.
 */
let sharedOper: Promise<NamedIrcClient> | null = null;
afterAll(async () => (await sharedOper)?.close());

describe('CHGHOST and MONITOR (extended-monitor)', () => {
  test('watchers with extended-monitor and chghost who share no channel get CHGHOST, once', async () => {
    const room = `#${unique('m')}`;
    const target = await client(unique('tgt'));
    const ext = await client(unique('extw'), 'extended-monitor chghost');
    const noChghost = await client(unique('plainw'), 'extended-monitor');
    const noExt = await client(unique('onlyc'), 'chghost');
    // Shares a room: the room's CHGHOST tells it, the watch must not tell it again.
    const sharing = await client(unique('sharew'), 'extended-monitor chghost');
    await ask(target, `JOIN ${room}`);
    await ask(sharing, `JOIN ${room}`);
    for (const c of [ext, noChghost, noExt, sharing]) {
      expect((await ask(c, `MONITOR + ${target.nick}`)).join('\n')).toMatch(/ 730 /);
    }
    const marks = [ext, noChghost, noExt, sharing].map((c) => c.lines.length);
    const boss = await (sharedOper ??= oper());
    await ask(boss, `CHGHOST ${target.nick} watched.cloak`);
    const old = `${target.nick}!~${target.nick}@127.0.0.1`;
    expect(await ext.expect(/ CHGHOST /)).toBe(`:${old} CHGHOST ~${target.nick} watched.cloak`);
    await sharing.expect(/ CHGHOST /);
    for (const c of [ext, noChghost, noExt, sharing]) await ask(c, 'PING :settle');
    const [e, p, o, s] = [ext, noChghost, noExt, sharing].map((c, i) =>
      c.lines.slice(marks[i]).filter((l) => / CHGHOST /.test(l)),
    );
    expect(e).toHaveLength(1);
    expect(p).toEqual([]);
    expect(o).toEqual([]);
    expect(s).toEqual([`:${old} CHGHOST ~${target.nick} watched.cloak`]);
    // The next 730 has the new mask.
    expect((await ask(noChghost, 'MONITOR S')).join('\n')).toContain(
      ` ${target.nick}!~${target.nick}@watched.cloak`,
    );
    for (const c of [target, ext, noChghost, noExt, sharing]) c.close();
  });
});

describe('WHOIS 378 (RPL_WHOISHOST)', () => {
  test('shows the real address, not the displayed host, to the person and operators only', async () => {
    const alice = await client(unique('alice'));
    const bob = await client(unique('bob'));
    const boss = await (sharedOper ??= oper());
    await ask(boss, `CHGHOST ${alice.nick} shown.cloak`);
    await alice.expect(/ 396 /);
    const host = (lines: string[]) => lines.filter((l) => / 378 /.test(l));
    expect(host(await ask(alice, `WHOIS ${alice.nick}`))).toEqual([
      `:test.plugboard 378 ${alice.nick} ${alice.nick} :is connecting from *@127.0.0.1 127.0.0.1`,
    ]);
    expect(host(await ask(boss, `WHOIS ${alice.nick}`))).toEqual([
      `:test.plugboard 378 ${boss.nick} ${alice.nick} :is connecting from *@127.0.0.1 127.0.0.1`,
    ]);
    const seen = await ask(bob, `WHOIS ${alice.nick}`);
    expect(host(seen)).toEqual([]);
    expect(seen.join('\n')).not.toContain('127.0.0.1');
    expect(seen.find((l) => / 311 /.test(l))).toContain(` ~${alice.nick} shown.cloak * `);
    for (const c of [alice, bob]) c.close();
  });
});
