/**
 * Issue 15, one access policy (core/access.ts) for a room's history, its member list and
 * its place in room lists, whatever protocol asks. Rooms of every kind — one the viewer is
 * in, public, banning the viewer, keyed (+k), invite-only (+i), secret (+s), and one
 * everyone has left — are asked about by a viewer on each protocol:
 *
 * - framed and WebSocket JSON: `history`, `search` (in the room, and in all one's rooms),
 *   `who`, `rooms`, `topic`
 * - line: `/who ROOM`, `/rooms`, `/history` (the current room only), `/search ROOM` and
 *   `/search` (all one's rooms)
 * - IRC: NAMES, WHO, LIST, TOPIC, MODE, CHATHISTORY (IRCv3 draft/chathistory: every room
 *   one may not read is INVALID_TARGET, a secret one as any other)
 *
 * and every protocol must give the answer the policy gives: history and search to members
 * only (a search of all one's rooms finds only the rooms one is in); the
 * members of any room but a secret or vanished one; secret and vanished rooms answered
 * exactly as rooms that do not exist (their names, topics and texts never leak).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningServer } from '../../../src/server.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import { FramedPeer, IrcPeer, LinePeer, WsPeer, ATTACK_SERVER_FLAGS } from './peers.js';

const ROOMS = ['#mem', '#pub', '#ban', '#key', '#inv', '#sec', '#gone'] as const;
type RoomName = (typeof ROOMS)[number];
const VIEWERS = ['vl', 'vi', 'vf', 'vw'];

/** What a viewer may learn about a room, as the policy says. */
interface Answer {
  /** 'yes', or the error: not_in_room, no_such_room. */
  history?: string;
  /** Searching the room by name: as history. */
  search?: string;
  /** Sorted names, or no_such_room. */
  members?: string;
  listed?: boolean;
  /** The topic, or no_such_room. */
  topic?: string;
}

function expected(room: RoomName): Answer {
  const hidden = room === '#sec' || room === '#gone';
  const members = room === '#mem' ? ['own', ...VIEWERS].sort().join(',') : 'own';
  return {
    history: room === '#mem' ? 'yes' : hidden ? 'no_such_room' : 'not_in_room',
    search: room === '#mem' ? 'yes' : hidden ? 'no_such_room' : 'not_in_room',
    members: hidden ? 'no_such_room' : members,
    listed: !hidden,
    topic: hidden ? 'no_such_room' : `topic of ${room}`,
  };
}

let server: RunningServer;
let owner: IrcPeer;
let vl: LinePeer, vi: IrcPeer, vf: FramedPeer, vw: WsPeer;

beforeAll(async () => {
  server = await startTestServer([...ATTACK_SERVER_FLAGS]);
  owner = await IrcPeer.register(portOf(server, 'irc'), 'own');
  for (const room of ROOMS) {
    owner.send(`JOIN ${room}`);
    owner.send(`TOPIC ${room} :topic of ${room}`);
    owner.send(`PRIVMSG ${room} :text only members of ${room} may read`);
  }
  owner.send('MODE #ban +bbbb vl!*@* vi!*@* vf!*@* vw!*@*');
  owner.send('MODE #key +k sekrit');
  owner.send('MODE #inv +i');
  owner.send('MODE #sec +s');
  owner.send('PART #gone :everyone leaves');
  await owner.barrier();
  vl = await LinePeer.named(portOf(server, 'line'), 'vl');
  vi = await IrcPeer.register(portOf(server, 'irc'), 'vi');
  vf = await FramedPeer.hello(portOf(server, 'framed'), 'vf');
  vw = await WsPeer.hello(portOf(server, 'http'), 'vw');
  vl.send('/join #mem');
  await vl.line(/^\* You joined #mem/);
  vi.send('JOIN #mem');
  await vi.line(/ 366 vi #mem /);
  for (const p of [vf, vw])
    expect((await p.request({ type: 'join', room: '#mem' })).type).toBe('joined');
});

afterAll(async () => {
  for (const p of [owner, vl, vi, vf, vw]) p?.close();
  await server?.close();
});

/** What `peer` received in answer to `lines` (everything up to a round trip after them). */
async function ask(peer: LinePeer | IrcPeer, ...lines: string[]): Promise<string[]> {
  const from = peer.units.length;
  for (const l of lines) peer.send(l);
  await peer.barrier();
  return peer.units.slice(from).map((u) => u.replace(/\r$/, ''));
}

const names = (list: string[]) =>
  list
    .map((n) => n.replace(/^[@+]+/, '').replace(/ \(away\)$/, ''))
    .sort()
    .join(',');

async function jsonAnswers(p: FramedPeer | WsPeer): Promise<Record<RoomName, Answer>> {
  const out = {} as Record<RoomName, Answer>;
  // Searching every room one may read finds the text of the one room the viewer is in.
  const everywhere = await p.request({ type: 'search', q: 'text only members' });
  expect(everywhere.type).toBe('search');
  expect((everywhere.messages as { room: string }[]).map((m) => m.room)).toEqual(['#mem']);
  const listed = await p.request({ type: 'rooms' });
  const shown = new Map(
    (listed.rooms as { name: string; topic: string }[]).map((r) => [r.name, r]),
  );
  for (const room of ROOMS) {
    const h = await p.request({ type: 'history', room, limit: 10 });
    const found = await p.request({ type: 'search', room, q: 'members read' });
    if (found.type === 'search') {
      const texts = (found.messages as { room: string; text: string }[]).map((m) => m.text);
      expect(texts).toEqual([`text only members of ${room} may read`]);
    } else {
      // Refused as history is, and not a word of the room in the refusal.
      expect(JSON.stringify(found)).not.toContain('text only');
    }
    const w = await p.request({ type: 'who', room });
    const t = await p.request({ type: 'topic', room });
    if (h.type === 'history') {
      // What it returned is the room's own text, not another room's.
      expect(JSON.stringify(h.messages)).toContain(`text only members of ${room} may read`);
    }
    out[room] = {
      history: h.type === 'history' ? 'yes' : String(h.code),
      search: found.type === 'search' ? 'yes' : String(found.code),
      members:
        w.type === 'who'
          ? names((w.members as { name: string }[]).map((m) => m.name))
          : String(w.code),
      listed: shown.has(room),
      topic: t.type === 'topic' ? String(t.topic) : String(t.code),
    };
  }
  return out;
}

async function lineAnswers(): Promise<Record<RoomName, Partial<Answer>>> {
  const out = {} as Record<RoomName, Partial<Answer>>;
  const listing = await ask(vl, '/rooms');
  const listed = new Map<string, string>();
  for (const l of listing) {
    const m = /^\* {3}(#\S+) \(\d+\)(?: (.*))?$/.exec(l);
    if (m) listed.set(m[1] as string, m[2] ?? '');
  }
  for (const room of ROOMS) {
    const who = (await ask(vl, `/who ${room}`)).find((l) => /^\* In |^! /.test(l)) ?? '';
    const m = /^\* In \S+ \(\d+\): (.*)$/.exec(who);
    const searched = await ask(vl, `/search ${room} members read`);
    const said = searched.filter((l) => l.includes('text only members'));
    // Found: the room's own line, shown as history shows lines (with the room).
    if (said.length > 0) {
      expect(said).toEqual([
        expect.stringContaining(`] ${room} <own> text only members of ${room} may read`),
      ]);
    }
    out[room] = {
      search:
        said.length > 0
          ? 'yes'
          : searched.some((l) => /^! No such room/.test(l))
            ? 'no_such_room'
            : searched.some((l) => /^! Join \S+ to read/.test(l))
              ? 'not_in_room'
              : searched.join('|'),
      members: m
        ? names((m[1] as string).split(', '))
        : /^! No such room/.test(who)
          ? 'no_such_room'
          : who,
      listed: listed.has(room),
      topic: listed.get(room) ?? 'no_such_room',
    };
  }
  const everywhere = await ask(vl, '/search text only members');
  expect(everywhere.filter((l) => l.startsWith('['))).toEqual([
    expect.stringContaining('#mem <own> text only members of #mem may read'),
  ]);
  // The line protocol reads the history of the current room, which one must have joined.
  const history = await ask(vl, '/switch #mem', '/history 10');
  out['#mem'].history = history.some((l) => l.includes('text only members of #mem may read'))
    ? 'yes'
    : 'no';
  for (const room of ROOMS.filter((r) => r !== '#mem')) {
    const switched = await ask(vl, `/switch ${room}`, '/history 10');
    // Still in #mem: the switch is refused, and the history shown is #mem's own.
    expect(switched.join('\n')).not.toContain(`text only members of ${room}`);
    expect(switched[0]).toMatch(/^! /);
  }
  vl.send('/switch #mem');
  return out;
}

async function ircAnswers(): Promise<Record<RoomName, Partial<Answer>>> {
  const out = {} as Record<RoomName, Partial<Answer>>;
  const list = await ask(vi, 'LIST');
  const listed = new Set(list.map((l) => / 322 vi (\S+) /.exec(l)?.[1]).filter(Boolean));
  for (const room of ROOMS) {
    const namesReply = await ask(vi, `NAMES ${room}`);
    const fromNames = namesReply
      .filter((l) => / 353 vi [=@*] /.test(l))
      .flatMap((l) => l.slice(l.indexOf(' :') + 2).split(' '));
    const whoReply = await ask(vi, `WHO ${room}`);
    const fromWho = whoReply
      .filter((l) => / 352 vi /.test(l))
      .map((l) => l.split(' ')[7] as string);
    // NAMES and WHO must agree; an unseen room has neither.
    expect(names(fromWho)).toBe(names(fromNames));
    const topic = await ask(vi, `TOPIC ${room}`);
    const mode = await ask(vi, `MODE ${room}`);
    const hist = await ask(vi, `CHATHISTORY LATEST ${room} * 10`);
    for (const other of ROOMS.filter((r) => r !== room)) {
      expect(hist.join('\n')).not.toContain(`text only members of ${other} may read`);
    }
    const t332 = topic.find((l) => / 332 vi /.test(l));
    const modeIs = mode.find((l) => / 324 vi /.test(l));
    if (room === '#key' && modeIs) expect(modeIs).not.toContain('sekrit');
    out[room] = {
      history: hist.some((l) => l.includes(`text only members of ${room} may read`))
        ? 'yes'
        : hist.some((l) => / FAIL CHATHISTORY INVALID_TARGET LATEST /.test(l))
          ? 'invalid_target'
          : hist.join(' | '),
      members: fromNames.length > 0 ? names(fromNames) : 'no_such_room',
      listed: listed.has(room),
      topic: t332
        ? t332.slice(t332.indexOf(' :') + 2)
        : topic.some((l) => / 403 /.test(l))
          ? 'no_such_room'
          : '?',
    };
    // MODE answers a room exactly when the room may be known.
    expect(modeIs !== undefined, `MODE ${room}`).toBe(expected(room).listed);
    if (!modeIs) expect(mode.some((l) => / 403 vi /.test(l))).toBe(true);
  }
  return out;
}

test('history, who, room lists, topics: every protocol gives the answer of the policy', async () => {
  const want = Object.fromEntries(ROOMS.map((r) => [r, expected(r)]));
  expect(await jsonAnswers(vf)).toEqual(want);
  expect(await jsonAnswers(vw)).toEqual(want);
  const noHistory = Object.fromEntries(
    ROOMS.map((r) => {
      const { history: _history, ...rest } = expected(r);
      return [r, r === '#mem' ? { ...rest, history: 'yes' } : rest];
    }),
  );
  expect(await lineAnswers()).toEqual(noHistory);
  const irc = Object.fromEntries(
    ROOMS.map((r) => {
      const { history: _history, search: _search, ...rest } = expected(r);
      return [r, { ...rest, history: r === '#mem' ? 'yes' : 'invalid_target' }];
    }),
  );
  expect(await ircAnswers()).toEqual(irc);
});

test('a room everyone left keeps its history from everyone, though the store still has it', async () => {
  expect(await server.hub.store.history({ room: '#gone', limit: 10 })).not.toEqual([]);
  for (const p of [vf, vw]) {
    const h = await p.request({ type: 'history', room: '#gone', limit: 10 });
    expect(h).toMatchObject({ type: 'error', code: 'no_such_room' });
  }
});
