/**
 * Renaming a room (IRCv3 draft/channel-rename) as every protocol sees it, over real
 * sockets: IRC with the capability (RENAME) and without (the spec's fallback: PART, JOIN,
 * topic, NAMES), the line protocol (a line, and the current room follows), framed JSON and
 * WebSocket (a `rename` event); the room's state and history under the new name; the
 * refusals; a resuming JSON client led from the old name to the new one.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RawFramedClient, type Msg } from '../helpers/framed-client.js';
import { RawIrcClient } from '../helpers/irc-client.js';
import { ircClient, ircJoin, sync } from '../helpers/irc-setup.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import { WsClient } from '../helpers/ws-client.js';
import type { RunningServer } from '../../src/server.js';

let server: RunningServer;
let irc: number;
let line: number;
let framed: number;
let http: number;
let n = 0;
const nick = (base: string) => `${base}${++n}`;

beforeAll(async () => {
  server = await startTestServer([
    '--irc-port',
    '0',
    '--framed-port',
    '0',
    '--http-port',
    '0',
    '--flood-rate',
    '0',
    '--oper',
    'root:rootpass',
    // These tests see the old name free at once and rename rooms back to back: the
    // redirection and the cooldown have their own tests (rename-grace.test.ts).
    '--rename-grace',
    '0',
    '--rename-cooldown',
    '0',
  ]);
  irc = portOf(server, 'irc');
  line = portOf(server, 'line');
  framed = portOf(server, 'framed');
  http = portOf(server, 'http');
});
afterAll(() => server.close());

/** Registers on the server's IRC port with `caps`. */
const withCaps = (name: string, caps: string) => ircClient(irc, name, caps);

const isRename = (room: string) => (m: Msg) => m.type === 'rename' && m.room === room;

describe('a rename as each protocol sees it', () => {
  test('RENAME, the fallback, the line, the JSON events; state and history follow', async () => {
    const old = `#old${++n}`;
    const renamed = `#new${n}`;
    const aName = nick('alice');
    const bName = nick('bob');
    const alice = await withCaps(aName, 'draft/channel-rename draft/chathistory server-time');
    const bob = await RawIrcClient.register(irc, bName);
    await ircJoin(alice, old);
    alice.send(`TOPIC ${old} :the old topic`);
    await alice.expect(/ TOPIC /);
    alice.send(`MODE ${old} +k sesame`);
    await alice.expect(/ MODE .* \+k sesame/);
    alice.send(`MODE ${old} +b spam*!*@*`);
    await alice.expect(/ MODE .* \+b spam/);
    await ircJoin(bob, old, 'sesame');
    const cName = nick('carol');
    const carol = await LineClient.named(line, cName);
    carol.send(`/join ${old} sesame`);
    await carol.expect(new RegExp(`You joined ${old}`));
    const dName = nick('dave');
    const dave = await RawFramedClient.hello(framed, dName);
    dave.send({ type: 'join', room: old, key: 'sesame', ref: 1 });
    await dave.expect((m) => m.type === 'joined' && m.ref === 1);
    const eName = nick('erin');
    const erin = await WsClient.hello(http, eName);
    erin.send({ type: 'join', room: old, key: 'sesame', ref: 2 });
    await erin.expect((m) => m.type === 'joined' && m.ref === 2);
    alice.send(`PRIVMSG ${old} :said before the rename`);
    await dave.expect((m) => m.type === 'message' && m.text === 'said before the rename');

    alice.send(`RENAME ${old} ${renamed} :tidying up`);
    // With the capability: RENAME, reason always present.
    await alice.expect(new RegExp(`:${aName}!\\S+ RENAME ${old} ${renamed} :tidying up$`));
    // Without: the spec's fallback, the recipient's own PART and JOIN, then topic and NAMES.
    await bob.expect(new RegExp(`:${bName}!\\S+ PART ${old} :tidying up$`));
    await bob.expect(new RegExp(`:${bName}!\\S+ JOIN ${renamed}$`));
    await bob.expect(new RegExp(` 332 ${bName} ${renamed} :the old topic$`));
    await bob.expect(new RegExp(` 333 ${bName} ${renamed} `));
    const names = await bob.expect(new RegExp(` 353 ${bName} = ${renamed} :`));
    expect(names).toContain(`@${aName}`);
    for (const who of [bName, cName, dName, eName]) expect(names).toContain(who);
    await bob.expect(new RegExp(` 366 ${bName} ${renamed} `));
    // The line protocol: a clear line, and the current room is the renamed one.
    await carol.expect(
      new RegExp(`^\\* ${old} is now ${renamed} \\(renamed by ${aName}: tidying up\\)$`),
    );
    for (const c of [dave, erin]) {
      const m = await c.expect(isRename(old));
      expect(m).toMatchObject({ to: renamed, by: aName, reason: 'tidying up' });
    }
    carol.send('after the rename, from telnet');
    await alice.expect(new RegExp(`PRIVMSG ${renamed} :after the rename, from telnet`));

    // Roles, modes, key, bans follow.
    alice.send(`MODE ${renamed}`);
    await alice.expect(new RegExp(` 324 ${aName} ${renamed} \\+\\S*k\\S* sesame`));
    alice.send(`MODE ${renamed} +b`);
    await alice.expect(new RegExp(` 367 ${aName} ${renamed} spam\\*!\\*@\\*`));
    alice.send(`TOPIC ${renamed}`);
    await alice.expect(new RegExp(` 332 ${aName} ${renamed} :the old topic`));
    // History: the old messages under the new name, in every protocol.
    dave.send({ type: 'history', room: renamed, limit: 10, ref: 3 });
    const h = await dave.expect((m) => m.type === 'history' && m.ref === 3);
    const texts = (h.messages as { text: string; room: string }[]).map((m) => m.text);
    expect(texts).toContain('said before the rename');
    expect(texts).toContain('after the rename, from telnet');
    expect((h.messages as { room: string }[]).every((m) => m.room === renamed)).toBe(true);
    alice.send(`CHATHISTORY LATEST ${renamed} * 10`);
    await alice.expect(new RegExp(`PRIVMSG ${renamed} :said before the rename`));
    dave.send({ type: 'search', q: 'before rename', ref: 4 });
    const found = await dave.expect((m) => m.type === 'search' && m.ref === 4);
    expect(found.messages).toEqual([
      expect.objectContaining({ room: renamed, text: 'said before the rename' }),
    ]);
    // The old name is free again: a new room, whose first member is its operator.
    const fName = nick('frank');
    const frank = await RawIrcClient.register(irc, fName);
    await ircJoin(frank, old);
    frank.send(`MODE ${old} +k other`);
    await frank.expect(new RegExp(` MODE ${old} \\+k other`));
    for (const c of [alice, bob, frank]) c.close();
    carol.close();
    dave.close();
    erin.close();
  });

  test('a rename from the line protocol and from JSON', async () => {
    const room = `#linerename${++n}`;
    const cName = nick('carol');
    const carol = await LineClient.named(line, cName);
    carol.send(`/join ${room}`);
    await carol.expect(/new room: you are its operator/);
    carol.send(`/rename ${room} ${room}b because`);
    await carol.expect(
      new RegExp(`^\\* ${room} is now ${room}b \\(renamed by ${cName}: because\\)`),
    );
    const dave = await RawFramedClient.hello(framed, nick('dave'));
    dave.send({ type: 'join', room: `${room}b`, ref: 1 });
    await dave.expect((m) => m.type === 'joined' && m.ref === 1);
    // An operator renames from JSON: carol makes dave one.
    const daveName = `dave${n}`;
    carol.send(`/op ${room}b ${daveName}`);
    await dave.expect((m) => m.type === 'mode');
    dave.send({ type: 'rename', room: `${room}b`, to: `${room}c`, ref: 2 });
    await dave.expect((m) => m.type === 'ok' && m.ref === 2);
    await carol.expect(new RegExp(`^\\* ${room}b is now ${room}c \\(renamed by ${daveName}\\)$`));
    carol.close();
    dave.close();
  });
});

describe('what a rename refuses', () => {
  test('not an operator, unknown room, a name in use, an invalid name, the default room', async () => {
    const room = `#refuse${++n}`;
    const taken = `#taken${n}`;
    const aName = nick('alice');
    const alice = await withCaps(aName, 'draft/channel-rename');
    const bName = nick('bob');
    const bob = await withCaps(bName, 'draft/channel-rename');
    await ircJoin(alice, room);
    await ircJoin(alice, taken);
    await ircJoin(bob, room);
    bob.send(`RENAME ${room} ${room}x`);
    await bob.expect(new RegExp(` 482 ${bName} ${room} `));
    alice.send(`RENAME #nowhere${n} #somewhere${n}`);
    await alice.expect(new RegExp(` 403 ${aName} #nowhere${n} `));
    alice.send(`RENAME ${room} ${taken.toUpperCase()} :why not`);
    await alice.expect(
      new RegExp(`FAIL RENAME CHANNEL_NAME_IN_USE ${room} ${taken.toUpperCase()} :`),
    );
    alice.send(`RENAME ${room} nohash${n}`);
    await alice.expect(new RegExp(`FAIL RENAME CANNOT_RENAME ${room} nohash${n} :`));
    // A server operator may rename any room, but not the one everyone lands in.
    bob.send('OPER root rootpass');
    await bob.expect(/ 381 /);
    await ircJoin(bob, '#lobby');
    bob.send(`RENAME #lobby ${room}y`);
    await bob.expect(new RegExp(`FAIL RENAME CANNOT_RENAME #lobby ${room}y :`));
    bob.send(`RENAME ${room} ${taken}`);
    await bob.expect(new RegExp(`FAIL RENAME CHANNEL_NAME_IN_USE ${room} ${taken} :`));
    // Nothing moved: bob still in the room under its name.
    bob.send(`NAMES ${room}`);
    await bob.expect(new RegExp(` 353 ${bName} = ${room} :.*${aName}`));
    alice.close();
    bob.close();
  });

  test('a name that has only history is taken; a change of case is always allowed', async () => {
    const room = `#Case${++n}`;
    const aName = nick('alice');
    const alice = await withCaps(aName, 'draft/channel-rename');
    const bName = nick('bob');
    const bob = await RawIrcClient.register(irc, bName);
    const kept = `#kept${n}`;
    await ircJoin(alice, kept);
    alice.send(`PRIVMSG ${kept} :something kept`);
    alice.send(`PART ${kept}`);
    await alice.expect(new RegExp(` PART ${kept}`));
    await ircJoin(alice, room);
    await ircJoin(bob, room);
    alice.send(`RENAME ${room} ${kept}`);
    await alice.expect(new RegExp(`FAIL RENAME CHANNEL_NAME_IN_USE ${room} ${kept} :`));
    alice.send(`RENAME ${room} ${room.toLowerCase()}`);
    await alice.expect(new RegExp(` RENAME ${room} ${room.toLowerCase()} :$`));
    // No fallback for a change of case (the spec's SHOULD NOT): a notice instead.
    await bob.expect(
      new RegExp(` NOTICE ${room.toLowerCase()} :${room} is now ${room.toLowerCase()}`),
    );
    await sync(bob, 'case');
    bob.send(`NAMES ${room.toLowerCase()}`);
    await bob.expect(new RegExp(` 353 ${bName} = ${room.toLowerCase()} :`));
    alice.close();
    bob.close();
  });
});

describe('resuming after a rename', () => {
  test('a JSON client with a token that names the old room lands in the new one', async () => {
    const room = `#resume${++n}`;
    const aName = nick('alice');
    const alice = await withCaps(aName, 'draft/channel-rename');
    await ircJoin(alice, room);
    const dName = nick('dave');
    const dave = await RawFramedClient.hello(framed, dName);
    dave.send({ type: 'join', room, ref: 1 });
    await dave.expect((m) => m.type === 'joined' && m.ref === 1);
    alice.send(`PRIVMSG ${room} :seen by dave`);
    const seen = await dave.expect((m) => m.type === 'message' && m.text === 'seen by dave');
    dave.send({ type: 'quit', ref: 9 });
    await dave.waitClosed();
    alice.send(`PRIVMSG ${room} :missed by dave`);
    alice.send(`RENAME ${room} ${room}-renamed :moved`);
    await alice.expect(/ RENAME /);
    const back = await RawFramedClient.connect(framed);
    back.send({ type: 'hello', name: dName, since: { [room]: seen.id as string } });
    await back.expect((m) => m.type === 'welcome');
    back.send({ type: 'join', room, ref: 2 });
    const told = await back.expect(isRename(room));
    expect(told).toMatchObject({ to: `${room}-renamed`, by: aName, reason: 'moved' });
    const joined = await back.expect((m) => m.type === 'joined' && m.ref === 2);
    expect(joined.room).toBe(`${room}-renamed`);
    const replay = await back.expect((m) => m.type === 'history' && m.after === seen.id);
    expect((replay.messages as { text: string }[]).map((m) => m.text)).toEqual(['missed by dave']);
    back.close();
    alice.close();
  });
});
