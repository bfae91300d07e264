/**
 * IRCv3 draft/event-playback over real sockets: a client that negotiated it gets, in its
 * CHATHISTORY batches, the room events kept beside the messages (joins, parts, topics,
 * kicks, modes, renames, quits, kept TAGMSGs with their client tags), each with the msgid
 * and time it had live; a client without it, and the line protocol's replay, get the
 * messages alone, as before. Big rooms' comings and goings are not kept.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RawIrcClient } from '../helpers/irc-client.js';
import { ask, ircClient, tagsOf, untag } from '../helpers/irc-setup.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

let server: RunningServer;
let irc: number;
let line: number;
let n = 0;
const unique = (base: string) => `${base}${(++n).toString(36)}${Date.now().toString(36).slice(-3)}`;
const HISTORY = 'batch server-time message-tags echo-message draft/chathistory';
const PLAYBACK = `${HISTORY} draft/event-playback`;
/** Rooms of more than this many members keep no joins, parts or quits. */
const DIGEST = 3;

beforeAll(async () => {
  server = await startTestServer([
    '--irc-port',
    '0',
    '--flood-rate',
    '0',
    '--history-on-join',
    '10',
    '--roster-digest',
    String(DIGEST),
    '--register-burst',
    '20',
  ]);
  irc = portOf(server, 'irc');
  line = portOf(server, 'line');
});
afterAll(() => server.close());

const client = (nick: string, caps: string) =>
  ircClient(irc, nick, caps, { realname: `${nick} real` });

/** The lines inside the one chathistory batch of `lines`, checked for shape. */
function batch(lines: string[], target: string): string[] {
  const open = lines.findIndex((l) => / BATCH \+\S+ chathistory /.test(l));
  expect(open, lines.join('\n')).toBeGreaterThanOrEqual(0);
  const m = / BATCH \+(\S+) chathistory (\S+)$/.exec(lines[open] as string);
  expect(m?.[2]).toBe(target);
  const id = m?.[1] as string;
  const close = lines.findIndex((l) => l.endsWith(` BATCH -${id}`));
  const inner = lines.slice(open + 1, close);
  for (const l of inner) expect(tagsOf(l).batch).toBe(id);
  return inner;
}

/** A live line, as the playback must repeat it: without the batch tag. */
function live(l: string): { msgid: string; time: string; rest: string } {
  const t = tagsOf(l);
  return { msgid: t.msgid as string, time: t.time as string, rest: untag(l) };
}

function played(l: string): { msgid: string; time: string; rest: string } {
  return live(l);
}

const pause = () => new Promise((r) => setTimeout(r, 3));

describe('a channel', () => {
  let alice: RawIrcClient;
  let bob: RawIrcClient;
  let room: string;
  const seen: string[] = [];
  let carolNick: string;

  beforeAll(async () => {
    const aliceNick = unique('alice');
    alice = await client(aliceNick, PLAYBACK);
    bob = await client(unique('bob'), HISTORY);
    room = `#${unique('ev')}`;
    await ask(alice, `JOIN ${room}`);
    await ask(bob, `JOIN ${room}`);
    carolNick = unique('carol');
    const carol = await client(carolNick, 'message-tags');
    // Each step's line as alice saw it live (echo-message shows her own).
    const step = async (c: RawIrcClient, command: string, mine: RegExp) => {
      c.send(command);
      seen.push(await alice.expect(mine));
      await pause();
    };
    await step(carol, `JOIN ${room}`, new RegExp(`:${carolNick}!\\S+ JOIN ${room}$`));
    await step(alice, `TOPIC ${room} :the topic`, / TOPIC \S+ :the topic$/);
    await step(alice, `PRIVMSG ${room} :hello`, / PRIVMSG \S+ :hello$/);
    await step(
      alice,
      `@+draft/react=👍;+draft/reply=1 TAGMSG ${room}`,
      new RegExp(`TAGMSG ${room}$`),
    );
    // A typing notification is never kept.
    alice.send(`@+typing=active TAGMSG ${room}`);
    await alice.expect(/\+typing=active\S* \S+ TAGMSG/);
    await step(alice, `MODE ${room} +v ${carolNick}`, / MODE \S+ \+v /);
    await step(carol, `PART ${room} :later`, / PART \S+ :later$/);
    await step(alice, `PRIVMSG ${room} :bye`, / PRIVMSG \S+ :bye$/);
    carol.close();
  });
  afterAll(() => {
    alice.close();
    bob.close();
  });

  test('with event-playback: every kept event, in order, with its live msgid, time and tags', async () => {
    const inner = batch(await ask(alice, `CHATHISTORY LATEST ${room} * 50`), room);
    // Alice's and bob's own joins come first (kept too), then what she saw live.
    expect(inner.map((l) => untag(l).split(' ')[1])).toEqual([
      'JOIN',
      'JOIN',
      ...seen.map((l) => untag(l).split(' ')[1]),
    ]);
    expect(inner.slice(2).map(played)).toEqual(seen.map(live));
    for (const l of seen) expect(tagsOf(l).msgid, l).toMatch(/^\d+$/);
    const tagmsg = inner.find((l) => / TAGMSG /.test(l)) as string;
    expect(tagsOf(tagmsg)['+draft/react']).toBe('👍');
    expect(tagsOf(tagmsg)['+draft/reply']).toBe('1');
    expect(inner.some((l) => l.includes('+typing'))).toBe(false);
  });

  test('the limit counts events and messages together; msgid references name events too', async () => {
    const last2 = batch(await ask(alice, `CHATHISTORY LATEST ${room} * 2`), room);
    expect(last2.map(played)).toEqual(seen.slice(-2).map(live));
    const topicId = live(seen[1] as string).msgid;
    const after = batch(await ask(alice, `CHATHISTORY AFTER ${room} msgid=${topicId} 2`), room);
    expect(after.map(played)).toEqual(seen.slice(2, 4).map(live));
    const before = batch(await ask(alice, `CHATHISTORY BEFORE ${room} msgid=${topicId} 1`), room);
    expect(before.map(played)).toEqual([live(seen[0] as string)]);
  });

  test('without event-playback: the messages alone, as before', async () => {
    const inner = batch(await ask(bob, `CHATHISTORY LATEST ${room} * 50`), room);
    expect(inner.map((l) => untag(l))).toEqual(
      seen.filter((l) => / PRIVMSG /.test(l)).map((l) => untag(l)),
    );
  });

  test("the line protocol's replay and /history show the messages alone", async () => {
    const dave = await LineClient.named(line, unique('dave'));
    dave.send(`/join ${room}`);
    await dave.expect(/You joined/);
    await dave.expect(/ bye$/);
    dave.send('/history 50');
    await dave.expect(/ bye$/);
    const shown = dave.lines.slice(dave.lines.findIndex((l) => l.includes('You joined')) + 1);
    const replay = [/^\* Last 2 messages in /, /> hello$/, /> bye$/];
    const expected = [/^\* Topic: the topic$/, ...replay, ...replay];
    expect(shown, shown.join('\n')).toHaveLength(expected.length);
    shown.forEach((l, i) => expect(l).toMatch(expected[i] as RegExp));
    dave.close();
  });
});

describe('what is not kept', () => {
  test("a big room's joins and parts; its topics still are", async () => {
    const room = `#${unique('big')}`;
    const watcher = await client(unique('w'), PLAYBACK);
    await ask(watcher, `JOIN ${room}`);
    const others: RawIrcClient[] = [];
    for (let i = 0; i < DIGEST; i++) {
      const c = await client(unique('m'), 'message-tags');
      await ask(c, `JOIN ${room}`);
      others.push(c);
    }
    // The room now has DIGEST + 1 members: the last join was bulk, and so is this part.
    await ask(others[0] as RawIrcClient, `PART ${room}`);
    await ask(watcher, `TOPIC ${room} :big topic`);
    const inner = batch(await ask(watcher, `CHATHISTORY LATEST ${room} * 50`), room);
    expect(inner.map((l) => untag(l).split(' ')[1])).toEqual(['JOIN', 'JOIN', 'JOIN', 'TOPIC']);
    for (const c of others) c.close();
    watcher.close();
  });
});

describe('private TAGMSGs', () => {
  async function account(nick: string, caps: string): Promise<RawIrcClient> {
    const c = await client(nick, caps);
    c.send('PRIVMSG NickServ :REGISTER correct-horse');
    await c.expect(/ is now registered to you/);
    return c;
  }

  test('kept between accounts, played back only with event-playback', async () => {
    const annNick = unique('ann');
    const benNick = unique('ben');
    const ann = await account(annNick, PLAYBACK);
    const ben = await account(benNick, HISTORY);
    ann.send(`@+draft/react=🎉;+draft/reply=7 TAGMSG ${benNick}`);
    const echo = await ann.expect(new RegExp(`TAGMSG ${benNick}$`));
    await ben.expect(new RegExp(`TAGMSG ${benNick}$`));
    ann.send(`PRIVMSG ${benNick} :hi`);
    await ben.expect(/ PRIVMSG \S+ :hi$/);

    const mine = batch(await ask(ann, `CHATHISTORY LATEST ${benNick} * 10`), benNick);
    expect(mine.map((l) => untag(l).split(' ')[1])).toEqual(['TAGMSG', 'PRIVMSG']);
    expect(tagsOf(mine[0] as string).msgid).toBe(tagsOf(echo).msgid);
    expect(tagsOf(mine[0] as string)['+draft/react']).toBe('🎉');
    expect(untag(mine[0] as string)).toBe(untag(echo));

    const theirs = batch(await ask(ben, `CHATHISTORY LATEST ${annNick} * 10`), annNick);
    expect(theirs.map((l) => untag(l).split(' ')[1])).toEqual(['PRIVMSG']);
    ann.close();
    ben.close();
  });
});
