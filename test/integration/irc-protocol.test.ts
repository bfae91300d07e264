import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RawIrcClient } from '../helpers/irc-client.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

let server: RunningServer;
let irc: number;
let line: number;
let n = 0;
const nick = (base: string) => `${base}${++n}`;

beforeAll(async () => {
  server = await startTestServer([
    '--irc-port',
    '0',
    '--flood-rate',
    '0',
    '--oper',
    'operuser:operpassword',
    '--server-name',
    'My.Little.Server',
  ]);
  irc = portOf(server, 'irc');
  line = portOf(server, 'line');
});
afterAll(() => server.close());

describe('registration', () => {
  test('NICK/USER gives the 001-005 burst with an honest ISUPPORT, then MOTD', async () => {
    const c = await RawIrcClient.connect(irc);
    const me = nick('reg');
    c.send(`NICK ${me}`);
    c.send(`USER ${me} 0 * :Real Name`);
    await c.expect(new RegExp(`^:My\\.Little\\.Server 001 ${me} :`));
    await c.expect(/ 002 /);
    await c.expect(/ 003 /);
    await c.expect(/ 004 /);
    const isupport = await c.expect(/ 005 /);
    for (const token of [
      'CASEMAPPING=ascii',
      'CHANTYPES=#',
      'PREFIX=(ov)@+',
      'NICKLEN=30',
      'CHANNELLEN=50',
      'TOPICLEN=390',
    ]) {
      expect(c.lines.filter((l) => / 005 /.test(l)).join(' ')).toContain(token);
    }
    expect(isupport).toMatch(/:are supported by this server$/);
    await c.expect(/ (375|422) /);
    c.close();
  });

  test('error numerics before and during registration', async () => {
    const taken = nick('taken');
    const holder = await RawIrcClient.register(irc, taken);
    const c = await RawIrcClient.connect(irc);
    c.send('JOIN #x');
    await c.expect(/ 451 \* :You have not registered/); // ERR_NOTREGISTERED
    c.send('NICK');
    await c.expect(/ 431 /); // ERR_NONICKNAMEGIVEN
    c.send('NICK 9bad');
    await c.expect(/ 432 \* 9bad :/); // ERR_ERRONEUSNICKNAME
    c.send(`NICK ${taken.toUpperCase()}`);
    await c.expect(new RegExp(` 433 \\* ${taken.toUpperCase()} :`)); // ERR_NICKNAMEINUSE
    c.send('USER');
    await c.expect(/ 461 \* USER :/); // ERR_NEEDMOREPARAMS
    holder.close();
    c.close();
  });

  test('CAP LS 302 / REQ / END negotiation', async () => {
    const c = await RawIrcClient.connect(irc);
    c.send('CAP LS 302');
    const ls = await c.expect(/ CAP \* LS /);
    for (const cap of [
      'message-tags',
      'server-time',
      'echo-message',
      'multi-prefix',
      'away-notify',
      'extended-join',
      'cap-notify',
      'batch',
      'labeled-response',
    ]) {
      expect(ls).toContain(cap);
    }
    c.send('CAP REQ :server-time echo-message');
    await c.expect(/ CAP \* ACK :server-time echo-message$/);
    c.send('CAP REQ :no-such-cap');
    await c.expect(/ CAP \* NAK :?no-such-cap$/);
    const me = nick('capper');
    c.send(`NICK ${me}`);
    c.send(`USER ${me} 0 * :x`);
    c.send('CAP END');
    await c.expect(/ 001 /);
    c.send(`JOIN #caps${n}`);
    await c.expect(/JOIN #caps/);
    c.send(`PRIVMSG #caps${n} :echo me`);
    // echo-message + server-time: our own message comes back with a time tag.
    await c.expect(
      new RegExp(`^@time=\\d{4}-\\d\\d-\\d\\dT[^ ]+ :${me}!~?\\S+ PRIVMSG #caps\\d+ :echo me$`),
    );
    c.close();
  });

  test('PING/PONG and unknown commands', async () => {
    const c = await RawIrcClient.register(irc, nick('pinger'));
    c.send('PING :token123');
    await c.expect(/PONG My\.Little\.Server :?token123$/);
    c.send('FROBNICATE');
    await c.expect(/ 421 \S+ FROBNICATE :/); // ERR_UNKNOWNCOMMAND
    c.send(`PRIVMSG #x :${'y'.repeat(600)}`);
    await c.expect(/ 417 /); // ERR_INPUTTOOLONG
    c.send('PING :still-here');
    await c.expect(/ :?still-here$/);
    c.close();
  });
});

describe('channels and messages', () => {
  test('JOIN gives op to the first member, names, topic; PRIVMSG and NOTICE reach others', async () => {
    const chan = `#room${n++}`;
    const a = nick('ann');
    const b = nick('bob');
    const ca = await RawIrcClient.register(irc, a);
    const cb = await RawIrcClient.register(irc, b);
    ca.send(`JOIN ${chan}`);
    await ca.expect(new RegExp(`^:${a}!\\S+ JOIN ${chan}$`));
    await ca.expect(new RegExp(` 353 ${a} = ${chan} :@${a}$`));
    await ca.expect(new RegExp(` 366 ${a} ${chan} :`));
    cb.send(`JOIN ${chan}`);
    await ca.expect(new RegExp(`^:${b}!\\S+ JOIN ${chan}$`));
    await cb.expect(new RegExp(` 353 ${b} = ${chan} :.*@${a}`));
    ca.send(`TOPIC ${chan} :the topic`);
    await cb.expect(new RegExp(`^:${a}!\\S+ TOPIC ${chan} :the topic$`));
    cb.send(`TOPIC ${chan} :mine now`);
    await cb.expect(new RegExp(` 482 ${b} ${chan} :`)); // ERR_CHANOPRIVSNEEDED (+t)
    ca.send(`PRIVMSG ${chan} :hello channel`);
    await cb.expect(new RegExp(`^:${a}!~?${a}@127\\.0\\.0\\.1 PRIVMSG ${chan} :hello channel$`));
    ca.send(`NOTICE ${b} :a notice`);
    await cb.expect(new RegExp(`^:${a}!\\S+ NOTICE ${b} :a notice$`));
    ca.send(`PRIVMSG ${b} :private`);
    await cb.expect(new RegExp(`PRIVMSG ${b} :private$`));
    ca.send('PRIVMSG nobody-here :x');
    await ca.expect(/ 401 \S+ nobody-here :/); // ERR_NOSUCHNICK
    ca.send('PRIVMSG #nochannel :x');
    await ca.expect(/ (401|403) \S+ #nochannel :/);
    ca.send('PART #notjoined');
    await ca.expect(/ (403|442) \S+ #notjoined :/);
    cb.send(`PART ${chan} :bye`);
    await ca.expect(new RegExp(`^:${b}!\\S+ PART ${chan} :bye$`));
    ca.close();
    cb.close();
  });

  test('modes: +k, +l, +i with INVITE, +b, +m with +v, KICK', async () => {
    const chan = `#modes${n++}`;
    const op = nick('op');
    const guest = nick('guest');
    const co = await RawIrcClient.register(irc, op);
    const cg = await RawIrcClient.register(irc, guest);
    co.send(`JOIN ${chan}`);
    await co.expect(/ 366 /);
    co.send(`MODE ${chan} +k sesame`);
    await co.expect(new RegExp(`MODE ${chan} \\+k sesame$`));
    cg.send(`JOIN ${chan}`);
    await cg.expect(new RegExp(` 475 ${guest} ${chan} :`)); // ERR_BADCHANNELKEY
    cg.send(`JOIN ${chan} sesame`);
    await cg.expect(new RegExp(`JOIN ${chan}$`));
    cg.send(`PART ${chan}`);
    co.send(`MODE ${chan} -k *`);
    co.send(`MODE ${chan} +l 1`);
    await co.expect(new RegExp(`MODE ${chan} \\+l 1$`));
    cg.send(`JOIN ${chan}`);
    await cg.expect(new RegExp(` 471 ${guest} ${chan} :`)); // ERR_CHANNELISFULL
    co.send(`MODE ${chan} -l`);
    co.send(`MODE ${chan} +i`);
    await co.expect(new RegExp(`MODE ${chan} \\+i$`));
    cg.send(`JOIN ${chan}`);
    await cg.expect(new RegExp(` 473 ${guest} ${chan} :`)); // ERR_INVITEONLYCHAN
    co.send(`INVITE ${guest} ${chan}`);
    await co.expect(new RegExp(` 341 ${op} ${guest} ${chan}$`));
    await cg.expect(new RegExp(`INVITE ${guest} :?${chan}$`));
    cg.send(`JOIN ${chan}`);
    await cg.expect(new RegExp(`JOIN ${chan}$`));
    co.send(`MODE ${chan} +m`);
    await cg.expect(new RegExp(`MODE ${chan} \\+m$`));
    cg.send(`PRIVMSG ${chan} :can I talk?`);
    await cg.expect(new RegExp(` 404 ${guest} ${chan} :`)); // ERR_CANNOTSENDTOCHAN
    co.send(`MODE ${chan} +v ${guest}`);
    await cg.expect(new RegExp(`MODE ${chan} \\+v ${guest}$`));
    cg.send(`PRIVMSG ${chan} :now I can`);
    await co.expect(/:now I can$/);
    cg.send(`KICK ${chan} ${op}`);
    await cg.expect(new RegExp(` 482 ${guest} ${chan} :`));
    co.send(`KICK ${chan} ${guest} :out`);
    await cg.expect(new RegExp(`KICK ${chan} ${guest} :out$`));
    co.send(`MODE ${chan} +b ${guest}!*@*`);
    await co.expect(new RegExp(`MODE ${chan} \\+b ${guest}!\\*@\\*$`));
    co.send(`MODE ${chan} -i`);
    cg.send(`JOIN ${chan}`);
    await cg.expect(new RegExp(` 474 ${guest} ${chan} :`)); // ERR_BANNEDFROMCHAN
    co.send(`MODE ${chan} b`);
    await co.expect(new RegExp(` 367 ${op} ${chan} ${guest}!\\*@\\*`));
    await co.expect(new RegExp(` 368 ${op} ${chan} :`));
    co.close();
    cg.close();
  });

  test('queries: WHOIS, WHO, NAMES, LIST, ISON, USERHOST, AWAY, WHOWAS', async () => {
    const chan = `#query${n++}`;
    const a = nick('qa');
    const b = nick('qb');
    const ca = await RawIrcClient.register(irc, a);
    const cb = await RawIrcClient.register(irc, b);
    cb.send(`JOIN ${chan}`);
    await cb.expect(/ 366 /);
    ca.send(`WHOIS ${b}`);
    await ca.expect(new RegExp(` 311 ${a} ${b} ~?${b} 127\\.0\\.0\\.1 \\* :?`));
    await ca.expect(new RegExp(` 318 ${a} ${b} :`));
    ca.send(`WHO ${chan}`);
    await ca.expect(
      new RegExp(` 352 ${a} ${chan} ~?${b} 127\\.0\\.0\\.1 My\\.Little\\.Server ${b} H@ :0 `),
    );
    await ca.expect(new RegExp(` 315 ${a} ${chan} :`));
    ca.send(`NAMES ${chan}`);
    await ca.expect(new RegExp(` 353 ${a} = ${chan} :?@${b}$`));
    ca.send('LIST');
    await ca.expect(new RegExp(` 322 ${a} ${chan} 1 :?`));
    await ca.expect(/ 323 /);
    ca.send(`ISON ${b} nobody`);
    await ca.expect(new RegExp(` 303 ${a} :?${b}$`));
    ca.send(`USERHOST ${b}`);
    await ca.expect(new RegExp(` 302 ${a} :?${b}=\\+~?${b}@127\\.0\\.0\\.1$`));
    cb.send('AWAY :lunch');
    await cb.expect(/ 306 /);
    ca.send(`PRIVMSG ${b} :hi`);
    await ca.expect(new RegExp(` 301 ${a} ${b} :?lunch$`));
    cb.send('QUIT :gone');
    await cb.expect(/^ERROR :/);
    ca.send(`WHOWAS ${b}`);
    await ca.expect(new RegExp(` 314 ${a} ${b} ~?${b} 127\\.0\\.0\\.1 \\* :?`));
    ca.send('WHOIS nobody-at-all');
    await ca.expect(/ 401 \S+ nobody-at-all :/);
    ca.close();
  });

  test('NICK changes are seen by channel members; OPER, KILL and WALLOPS', async () => {
    const chan = `#nick${n++}`;
    const a = nick('na');
    const b = nick('nb');
    const ca = await RawIrcClient.register(irc, a);
    const cb = await RawIrcClient.register(irc, b);
    ca.send(`JOIN ${chan}`);
    cb.send(`JOIN ${chan}`);
    await ca.expect(new RegExp(`${b}!\\S+ JOIN`));
    const renamed = nick('renamed');
    cb.send(`NICK ${renamed}`);
    await ca.expect(new RegExp(`^:${b}!\\S+ NICK :?${renamed}$`));
    ca.send('OPER operuser wrong');
    await ca.expect(/ 464 /); // ERR_PASSWDMISMATCH
    ca.send(`KILL ${renamed} :no`);
    await ca.expect(/ 481 /); // ERR_NOPRIVILEGES
    ca.send('OPER operuser operpassword');
    await ca.expect(/ 381 /); // RPL_YOUREOPER
    ca.send(`KILL ${renamed} :enough`);
    await cb.expect(/^ERROR :/);
    await ca.expect(new RegExp(`^:${renamed}!\\S+ QUIT :.*enough`));
    ca.close();
  });
});

describe('cross-protocol', () => {
  test('an IRC user and an nc line user share a channel both ways', async () => {
    const chan = `#bridge${n++}`;
    const ircNick = nick('irc');
    const lineName = nick('tel');
    const c = await RawIrcClient.register(irc, ircNick);
    c.send(`JOIN ${chan}`);
    await c.expect(/ 366 /);
    const l = await LineClient.named(line, lineName);
    l.send(`/join ${chan}`);
    await c.expect(new RegExp(`^:${lineName}!${lineName}@127\\.0\\.0\\.1 JOIN ${chan}$`));
    l.send('hello from telnet');
    await c.expect(
      new RegExp(`^:${lineName}!${lineName}@127\\.0\\.0\\.1 PRIVMSG ${chan} :hello from telnet$`),
    );
    c.send(`PRIVMSG ${chan} :hello from IRC`);
    await l.expect(new RegExp(`<${ircNick}> hello from IRC$`));
    c.send(`PRIVMSG ${chan} :\x01ACTION waves\x01`);
    await l.expect(new RegExp(`\\* ${ircNick} waves$`));
    l.send('/me nods');
    await c.expect(new RegExp(`PRIVMSG ${chan} :\\x01ACTION nods\\x01$`));
    c.send(`MODE ${chan} -t`);
    await c.expect(new RegExp(`MODE ${chan} -t$`));
    l.send('/topic shared topic');
    await c.expect(new RegExp(`TOPIC ${chan} :shared topic$`));
    const newName = nick('tel');
    l.send(`/nick ${newName}`);
    await c.expect(new RegExp(`^:${lineName}!\\S+ NICK :?${newName}$`));
    c.send(`PRIVMSG ${newName} :psst`);
    await l.expect(new RegExp(`\\*${ircNick}\\* psst$`));
    l.send('/quit later');
    await c.expect(new RegExp(`^:${newName}!\\S+ QUIT :quit: later$`));
    c.close();
  });
});

describe('accounts', () => {
  test('NickServ REGISTER, then SASL PLAIN logs in before registration; bad passwords get 904', async () => {
    const owner = nick('acct');
    const c = await RawIrcClient.register(irc, owner);
    c.send('PRIVMSG NickServ :REGISTER sekrit-pw');
    await c.expect(
      new RegExp(`^:NickServ!\\S+ NOTICE ${owner} :${owner} is now registered to you\\.$`),
    );
    c.send('QUIT');
    await c.expect(/^ERROR/);

    const s = await RawIrcClient.connect(irc);
    s.send('CAP LS 302');
    await s.expect(/CAP \* LS .*sasl=PLAIN/);
    s.send('CAP REQ :sasl');
    await s.expect(/CAP \* ACK :?sasl$/);
    s.send('AUTHENTICATE PLAIN');
    await s.expect(/^AUTHENTICATE \+$/);
    s.send(`AUTHENTICATE ${Buffer.from(`\0${owner}\0wrong-pw`).toString('base64')}`);
    await s.expect(/ 904 /);
    s.send('AUTHENTICATE PLAIN');
    await s.expect(/^AUTHENTICATE \+$/);
    s.send(`AUTHENTICATE ${Buffer.from(`\0${owner}\0sekrit-pw`).toString('base64')}`);
    await s.expect(new RegExp(` 900 \\* \\S+ ${owner} :You are now logged in as ${owner}$`));
    await s.expect(/ 903 /);
    s.send(`NICK ${owner}`);
    s.send(`USER ${owner} 0 * :x`);
    s.send('CAP END');
    await s.expect(/ 001 /);
    s.send(`WHOIS ${owner}`);
    await s.expect(new RegExp(` 330 ${owner} ${owner} ${owner} :`)); // RPL_WHOISACCOUNT
    s.close();
  });

  test('SASL: one AUTHENTICATE over 400 bytes is 905; endless 400-byte chunks end in 904', async () => {
    const s = await RawIrcClient.connect(irc);
    s.send('CAP REQ :sasl');
    await s.expect(/CAP \* ACK :?sasl$/);
    s.send('AUTHENTICATE PLAIN');
    await s.expect(/^AUTHENTICATE \+$/);
    s.send(`AUTHENTICATE ${'A'.repeat(401)}`);
    await s.expect(/ 905 \* :SASL message too long$/);
    s.send('AUTHENTICATE PLAIN');
    await s.expect(/^AUTHENTICATE \+$/);
    // Far more than any PLAIN payload (irctest sends 400 kB): refused as a failed attempt.
    for (let i = 0; i < 30; i++) s.send(`AUTHENTICATE ${'A'.repeat(400)}`);
    await s.expect(/ 904 \* :SASL message too long$/);
    expect(s.lines.filter((l) => / 905 /.test(l))).toHaveLength(1);
    s.close();
  });
});

describe('LUSERS', () => {
  test('counts follow registration, +i/-i, OPER, -o and quits', async () => {
    const own = await startTestServer(['--irc-port', '0', '--oper', 'op:pw']);
    const port = portOf(own, 'irc');
    const lusers = async (c: RawIrcClient) => {
      c.send('LUSERS');
      const client = await c.expect(/ 251 /);
      const ops = await c.expect(/ 252 /);
      const m = /There are (\d+) users and (\d+) invisible/.exec(client);
      return {
        visible: Number(m?.[1]),
        invisible: Number(m?.[2]),
        opers: Number(ops.split(' ')[3]),
      };
    };
    const a = await RawIrcClient.register(port, 'amy');
    const b = await RawIrcClient.register(port, 'ben');
    // Past the welcome burst's own LUSERS (end of MOTD, or no MOTD).
    for (const c of [a, b]) await c.expect(/ (376|422) /);
    expect(await lusers(a)).toEqual({ visible: 2, invisible: 0, opers: 0 });
    b.send('MODE ben +i');
    await b.expect(/MODE ben :\+i/);
    b.send('MODE ben +i'); // already set: counted once
    a.send('OPER op pw');
    await a.expect(/ 381 /);
    expect(await lusers(a)).toEqual({ visible: 1, invisible: 1, opers: 1 });
    a.send('MODE amy -o');
    await a.expect(/MODE amy :-o/);
    expect(await lusers(a)).toEqual({ visible: 1, invisible: 1, opers: 0 });
    b.close();
    await a.expect(/ QUIT |:ben!/, 200).catch(() => {}); // no shared channel: nothing to see
    await new Promise((r) => setTimeout(r, 100));
    expect(await lusers(a)).toEqual({ visible: 1, invisible: 0, opers: 0 });
    a.close();
    await own.close();
  });
});
