/**
 * A rename between two slots of a real Redis Cluster (three masters) whose renaming node
 * dies between the steps (redis-rename.ts `moveAcrossSlots`; docs/cluster.md, "The
 * renaming node dies after step 1" and "It dies after step 2"). The renaming node is a
 * process of its own that kills itself with SIGKILL at the step boundary
 * (PLUGBOARD_TEST_RENAME_CRASH, test only); the survivors run in this process.
 *
 * - After step 2 (MOVE_OUT done, ARRIVE not): the survivors' users saw the rename; about
 *   1 s later a survivor has finished the move (awaitArrival), and the room goes on under
 *   the new name with its members, topic, offsets and history; what was sent meanwhile is
 *   delivered once, in order, a JSON client of the dead node resumes on a survivor without
 *   a gap or a duplicate, a node that held neither room leads that position there too
 *   (every node that applied the rename recorded it: the one that made it never did), and
 *   the dead node's users leave the renamed room when its lease runs out.
 * - After step 1 (RESERVE only): nothing was renamed and the old room goes on; a JOIN of
 *   the new name waits 5 s and is refused ("try again") until the 30 s reservation expires.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RedisBus } from '../../../src/cluster/redis-bus.js';
import { roomKeys } from '../../../src/cluster/redis-keys.js';
import {
  AWAIT_FINISH_MS,
  AWAIT_GIVE_UP_MS,
  RESERVE_MS,
} from '../../../src/cluster/redis-rename.js';
import { silentLogger } from '../../../src/core/ports.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { RawFramedClient, type Msg } from '../../helpers/framed-client.js';
import { RawIrcClient } from '../../helpers/irc-client.js';
import { ircClient, ircJoin } from '../../helpers/irc-setup.js';
import { LineClient } from '../../helpers/line-client.js';
import { spawnServer, type ServerProcess } from '../../helpers/process.js';
import { startRedisCluster, type TestRedisCluster } from '../../helpers/redis-cluster.js';
import { OTHER_LISTENERS_OFF, portOf, testConfig } from '../../helpers/server.js';

/** Slack on a loaded two-core machine for a bound the code sets (the 1 s, the 5 s). */
const SLACK_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: TestRedisCluster;
/** The nodes' shared SQLite store (one host): a token and the history cross nodes. */
let dir: string;
/** Survivors: a and b hold the room, c holds neither name. */
let a: RunningServer;
let b: RunningServer;
let c: RunningServer;
const doomed: ServerProcess[] = [];
let n = 0;
const name = (base: string) => `${base}${++n}`;

const flags = () => ['--bus', cluster.url, '--flood-rate', '0', '--store', 'sqlite'];

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  dir = mkdtempSync(join(tmpdir(), 'plugboard-rename-crash-'));
  const survivor = () =>
    startServer(
      testConfig([...flags(), '--data-dir', dir, '--irc-port', '0', '--framed-port', '0']),
      silentLogger,
    );
  a = await survivor();
  b = await survivor();
  c = await survivor();
}, 60_000);
afterAll(async () => {
  for (const p of doomed) p.child.kill('SIGKILL');
  for (const s of [a, b, c]) await s?.close();
  await cluster?.dispose();
});

/** The renaming node: a process that kills itself at `crash` in its next rename across slots. */
async function renamingNode(crash: 'after-reserve' | 'after-move-out'): Promise<ServerProcess> {
  const p = await spawnServer(
    [...flags(), ...OTHER_LISTENERS_OFF, '--irc-port', '0', '--framed-port', '0'],
    { PLUGBOARD_TEST_RENAME_CRASH: crash },
    dir,
  );
  doomed.push(p);
  return p;
}

/** A name for `room`'s rename whose keys are on another master than the room's. */
async function otherShard(room: string): Promise<string> {
  const home = await cluster.masterOf(roomKeys(room.toLowerCase()).meta);
  for (let i = 0; i < 50; i++) {
    const to = `${room}-to${i}`;
    if ((await cluster.masterOf(roomKeys(to.toLowerCase()).meta)) !== home) return to;
  }
  throw new Error('no name on another shard');
}

/**
 * A renaming node that dies at `crash`, a room of `base` on it whose new name is on another
 * shard, and alice there (its first member, so its operator: she renames it).
 */
async function scene(crash: 'after-reserve' | 'after-move-out', base: string) {
  const k = await renamingNode(crash);
  const room = `#${base}${++n}`;
  const to = await otherShard(room);
  const aName = name('alice');
  const alice = await ircClient(k.ports.irc!.port, aName, 'draft/channel-rename');
  await ircJoin(alice, room);
  const [from, dest] = [roomKeys(room.toLowerCase()), roomKeys(to.toLowerCase())];
  return { k, room, to, from, dest, aName, alice, redis: (a.hub.bus as RedisBus).link };
}

/** A line-protocol user of `server` in `room`. */
async function lineMember(server: RunningServer, who: string, room: string): Promise<LineClient> {
  const client = await LineClient.named(portOf(server, 'line'), who);
  client.send(`/join ${room}`);
  await client.expect(new RegExp(`You joined ${room}`));
  return client;
}

/** The renaming node died of its own SIGKILL (not of an error, not a clean stop). */
async function died(p: ServerProcess): Promise<void> {
  await Promise.race([p.exited, sleep(10_000)]);
  expect(p.child.signalCode, p.output()).toBe('SIGKILL');
}

describe('a rename across slots whose renaming node dies', () => {
  test(
    'right after step 2: the survivors finish the move about 1 s later; nothing is lost',
    { timeout: 90_000 },
    async () => {
      // On the node that dies: alice (IRC, who renames) and carol (JSON).
      const { k, room, to, from, dest, aName, alice, redis } = await scene(
        'after-move-out',
        'Crash',
      );
      alice.send(`TOPIC ${room} :carried over`);
      await alice.expect(/ TOPIC /);
      const cName = name('carol');
      const carol = await RawFramedClient.connect(k.ports.framed!.port);
      carol.send({ type: 'hello', name: cName });
      const { token } = await carol.expect((m) => m.type === 'welcome');
      carol.send({ type: 'join', room, ref: 1 });
      await carol.expect((m) => m.type === 'joined' && m.ref === 1);
      // On the survivors: irv (IRC) and dana (JSON) on a, bob (line) on b.
      const irv = await RawIrcClient.register(portOf(a, 'irc'), name('irv'));
      await ircJoin(irv, room);
      const dana = await RawFramedClient.hello(portOf(a, 'framed'), name('dana'));
      dana.send({ type: 'join', room, ref: 1 });
      await dana.expect((m) => m.type === 'joined' && m.ref === 1);
      const bName = name('bob');
      const bob = await lineMember(b, bName, room);
      bob.send('before');
      const seen = (await carol.expect((m) => m.type === 'message' && m.text === 'before'))
        .id as string;
      await irv.expect(/ PRIVMSG \S+ :before$/);
      const before = Number(await redis.command(['HGET', from.meta, 's']));
      const epoch = String(await redis.command(['HGET', from.meta, 'e']));

      // Bob types all along: before the rename, while it is half done, after.
      const TICKS = 40;
      const renameSeen = bob.expect(new RegExp(`^\\* ${room} is now ${to} \\(renamed by `));
      let renamedAt = 0;
      // When bob sees the rename (step 2), the room has not arrived (step 3 never ran).
      const arrivedYet = renameSeen.then(() => {
        renamedAt = Date.now();
        return redis.command(['EXISTS', dest.incoming]);
      });
      for (let i = 0; i < TICKS; i++) {
        if (i === 10) alice.send(`RENAME ${room} ${to} :crash`);
        bob.send(`tick-${i}`);
        await sleep(40);
      }
      await died(k);
      expect(Number(await arrivedYet)).toBe(1);
      // Everyone left saw the rename, in every protocol.
      await irv.expect(new RegExp(` PART ${room} :crash$`));
      await irv.expect(new RegExp(` JOIN ${to}$`));
      expect(await dana.expect((m) => m.type === 'rename')).toMatchObject({ room, to, by: aName });
      // A survivor finished the move (ARRIVE) about AWAIT_FINISH_MS after applying the rename.
      let arrivedAt = 0;
      for (let i = 0; i < 500 && arrivedAt === 0; i++) {
        if (Number(await redis.command(['EXISTS', dest.incoming])) === 0) arrivedAt = Date.now();
        else await sleep(20);
      }
      const finishMs = arrivedAt - renamedAt;
      console.info(`the move was finished ${finishMs} ms after the rename reached bob`);
      expect(arrivedAt).toBeGreaterThan(0);
      expect(finishMs).toBeLessThanOrEqual(AWAIT_FINISH_MS + SLACK_MS);
      // Every tick reached the survivors once, in the order typed, none refused to bob.
      await irv.expect(new RegExp(` PRIVMSG ${to} :tick-${TICKS - 1}$`), 10_000);
      await dana.expect((m) => m.type === 'message' && m.text === `tick-${TICKS - 1}`, 10_000);
      const ticks = Array.from({ length: TICKS }, (_, i) => `tick-${i}`);
      const ircTicks = irv.lines
        .map((l) => / PRIVMSG \S+ :(tick-\d+)$/.exec(l)?.[1])
        .filter((t) => t !== undefined);
      expect(ircTicks).toEqual(ticks);
      const texts = (ms: Msg[]) => ms.map((m) => m.text).filter((t) => /^tick-/.test(String(t)));
      expect(texts(dana.messages.filter((m) => m.type === 'message'))).toEqual(ticks);
      expect(bob.lines.filter((l) => /try again/.test(l))).toEqual([]);

      // The room under its new name: keys, offset and epoch on the new shard; nothing left.
      expect(Number(await redis.command(['HGET', dest.meta, 's']))).toBe(before + 1 + TICKS);
      expect(String(await redis.command(['HGET', dest.meta, 'e']))).toBe(epoch);
      expect(await redis.command(['HGET', dest.state, 'topic'])).toBe('carried over');
      expect(Number(await redis.command(['EXISTS', from.meta]))).toBe(0);
      expect(await cluster.keys(`pb:{r:${room.toLowerCase()}}:out:*`)).toEqual([]);
      // Its members (the dead node's too, until its lease runs out) on both survivors.
      const held = await redis.command(['HKEYS', dest.members]);
      expect(held).toEqual(
        expect.arrayContaining([aName, cName, bName].map((x) => x.toLowerCase())),
      );
      expect(held).toHaveLength(5);
      for (const s of [a, b]) {
        expect(s.hub.room(room)).toBeUndefined();
        const r = s.hub.room(to);
        expect(r?.topic).toBe('carried over');
        expect(r?.size).toBe(5);
        expect(s.hub.counters.busGaps).toBe(0);
      }
      // Chat goes on there, from a as from b.
      irv.send(`PRIVMSG ${to} :after, from a`);
      await bob.expect(/> after, from a$/);
      await dana.expect((m) => m.type === 'message' && m.text === 'after, from a');

      // Carol, cut off with her node, comes back on a with her token and her position in
      // the old name: told of the rename, led to the new name, replayed from there on.
      const back = await RawFramedClient.connect(portOf(a, 'framed'));
      back.send({ type: 'hello', name: cName, token, since: { [room]: seen } });
      expect(await back.expect((m) => m.type === 'welcome')).toMatchObject({ resumed: true });
      back.send({ type: 'join', room, ref: 2 });
      expect(await back.expect((m) => m.type === 'rename')).toMatchObject({ room, to });
      await back.expect((m) => m.type === 'joined' && m.ref === 2 && m.room === to);
      const replay = await back.expect((m) => m.type === 'history' && m.room === to);
      const missed = [...ticks, 'after, from a'];
      expect((replay.messages as Msg[]).map((m) => m.text)).toEqual(missed);
      expect(replay.missed).toBe(missed.length);
      // A node that held neither name leads the same position there (the store's record).
      const eve = await RawFramedClient.hello(portOf(c, 'framed'), name('eve'));
      eve.send({ type: 'join', room, since: seen, ref: 3 });
      expect(await eve.expect((m) => m.type === 'rename')).toMatchObject({ room, to });
      await eve.expect((m) => m.type === 'joined' && m.ref === 3 && m.room === to);
      const eveReplay = await eve.expect((m) => m.type === 'history' && m.room === to);
      expect((eveReplay.messages as Msg[]).map((m) => m.text)).toEqual(missed);

      // The dead node's lease runs out (10 s): alice's quit, sequenced in the old name her
      // user record lists, is sent on to the new one, where everyone sees her go.
      await irv.expect(new RegExp(`^:${aName}!\\S+ QUIT :server lost$`), 30_000);
      await bob.expect(new RegExp(`^\\* ${aName} left \\(server lost\\)$`));
      expect(await dana.expect((m) => m.type === 'quit' && m.name === aName)).toMatchObject({
        rooms: [to],
      });
      expect(await redis.command(['HEXISTS', dest.members, aName.toLowerCase()])).toBe(0);
      for (const x of [alice, irv]) x.close();
      for (const x of [carol, dana, back, eve]) x.close();
      bob.close();
    },
  );

  test(
    'right after step 1: nothing was renamed; a JOIN of the new name is refused until the reservation expires',
    { timeout: 90_000 },
    async () => {
      const { k, room, to, from, dest, alice, redis } = await scene('after-reserve', 'Halt');
      const irv = await RawIrcClient.register(portOf(a, 'irc'), name('irv'));
      await ircJoin(irv, room);
      const bob = await lineMember(b, name('bob'), room);
      const before = Number(await redis.command(['HGET', from.meta, 's']));

      alice.send(`RENAME ${room} ${to} :halted`);
      await died(k);
      // The reservation is all there is: the new name's, for at most RESERVE_MS.
      expect(await redis.command(['GET', dest.incoming])).toBe(room.toLowerCase());
      const ttl = Number(await redis.command(['PTTL', dest.incoming]));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(RESERVE_MS);
      // Nothing was renamed: the old room goes on, on both survivors, its offsets too.
      irv.send(`PRIVMSG ${room} :still here`);
      await bob.expect(/> still here$/);
      bob.send('and here');
      await irv.expect(new RegExp(` PRIVMSG ${room} :and here$`));
      expect(Number(await redis.command(['HGET', from.meta, 's']))).toBe(before + 2);
      expect(await redis.command(['GET', from.moved])).toBeNull();
      expect(irv.lines.some((l) => / RENAME | PART /.test(l))).toBe(false);
      expect(bob.lines.some((l) => / is now /.test(l))).toBe(false);
      for (const s of [a, b]) expect(s.hub.room(room)?.size).toBe(3);

      // A JOIN of the new name waits AWAIT_GIVE_UP_MS and is refused, "try again".
      const dave = await RawIrcClient.register(portOf(a, 'irc'), name('dave'));
      const erin = await RawFramedClient.hello(portOf(b, 'framed'), name('erin'));
      const started = Date.now();
      dave.send(`JOIN ${to}`);
      erin.send({ type: 'join', room: to, ref: 1 });
      // (IRC has no numeric for it: a NOTICE, as for any event the bus refuses.)
      const refusedIrc = await dave.expect(
        new RegExp(` NOTICE \\S+ :${to} is being renamed into; try again`, 'i'),
        15_000,
      );
      const refusedJson = await erin.expect((m) => m.type === 'error' && m.ref === 1, 15_000);
      const waited = Date.now() - started;
      console.info(`the JOIN of the new name was refused after ${waited} ms: ${refusedIrc}`);
      expect(refusedJson.message).toMatch(/try again/);
      expect(waited).toBeGreaterThanOrEqual(AWAIT_GIVE_UP_MS);
      expect(waited).toBeLessThanOrEqual(AWAIT_GIVE_UP_MS + SLACK_MS);
      expect(Number(await redis.command(['HLEN', dest.members]))).toBe(0);
      // The reservation expires (fast-forwarded here: the key's own TTL, set shorter): the
      // new name is free, and a JOIN makes a new, empty room there.
      await redis.command(['PEXPIRE', dest.incoming, '1']);
      await sleep(50);
      dave.send(`JOIN ${to}`);
      await dave.expect(new RegExp(` 366 \\S+ ${to} `));
      expect(dave.lines.find((l) => / 353 /.test(l))).toMatch(/:@dave\d+$/);
      for (const s of [a, b]) expect(s.hub.room(room)?.size).toBe(3);
      for (const x of [alice, irv, dave]) x.close();
      erin.close();
      bob.close();
    },
  );
});
