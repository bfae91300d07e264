/**
 * A room rename across two nodes on one real redis-server: the rename is one sequenced
 * event of the room (every node switches at the same point of its order), the room's
 * Redis keys move to the new name with its offset and epoch (the next event gets the
 * next offset: no gap, no duplicate), members on both nodes follow in every protocol, a
 * late event for the old name is sent on to the new one, and two renames racing on two
 * nodes end in one outcome.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { silentLogger } from '../../../src/core/ports.js';
import { RedisBus, sequenceEnvelope } from '../../../src/cluster/redis-bus.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { RawFramedClient } from '../../helpers/framed-client.js';
import { RawIrcClient } from '../../helpers/irc-client.js';
import { LineClient } from '../../helpers/line-client.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import {
  REDIS_BACKENDS,
  type RedisBackend,
  type RedisBackendKind,
} from '../../helpers/redis-backends.js';
import { portOf, testConfig } from '../../helpers/server.js';

let redis: TestRedis;
let nodes: RunningServer[] = [];
let n = 0;
const name = (base: string) => `${base}${++n}`;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const s of nodes) await s.close();
  await redis?.dispose();
});
beforeEach(async () => {
  for (const s of nodes) await s.close();
  await redis.cli('FLUSHALL');
  nodes = [];
  for (let i = 0; i < 2; i++) {
    nodes.push(
      await startServer(
        testConfig([
          '--bus',
          redis.url,
          '--irc-port',
          '0',
          '--framed-port',
          '0',
          '--flood-rate',
          '0',
          // These tests join old names right after a rename and rename back to back: no
          // redirect and no cooldown (rename-grace.test.ts tests those).
          ...['--rename-grace', '0', '--rename-cooldown', '0'],
        ]),
        silentLogger,
      ),
    );
  }
});

const meta = async (room: string) => redis.cli('HGET', `pb:{r:${room}}:meta`, 's');

describe('a rename on two nodes', () => {
  test('members on both nodes follow; the keys move with the offset; no gap, no duplicate', async () => {
    const [a, b] = nodes as [RunningServer, RunningServer];
    const room = `#spread${++n}`;
    const to = `#moved${n}`;
    const aName = name('alice');
    const alice = await RawIrcClient.withCaps(portOf(a, 'irc'), aName, 'draft/channel-rename');
    await alice.join(room);
    alice.send(`TOPIC ${room} :kept across nodes`);
    await alice.expect(/ TOPIC /);
    const bName = name('bob');
    const bob = await LineClient.named(portOf(b, 'line'), bName);
    bob.send(`/join ${room}`);
    await bob.expect(new RegExp(`You joined ${room}`));
    const carol = await RawFramedClient.hello(portOf(b, 'framed'), name('carol'));
    carol.send({ type: 'join', room, ref: 1 });
    await carol.expect((m) => m.type === 'joined' && m.ref === 1);
    const irv = await RawIrcClient.register(portOf(b, 'irc'), name('irv'));
    await irv.join(room);
    bob.send('before the rename');
    await alice.expect(new RegExp(`PRIVMSG ${room} :before the rename`));
    const before = Number(await meta(room.toLowerCase()));

    alice.send(`RENAME ${room} ${to} :reorganised`);
    await alice.expect(new RegExp(` RENAME ${room} ${to} :reorganised$`));
    await bob.expect(
      new RegExp(`^\\* ${room} is now ${to} \\(renamed by ${aName}: reorganised\\)$`),
    );
    const told = await carol.expect((m) => m.type === 'rename');
    expect(told).toMatchObject({ room, to, by: aName });
    await irv.expect(new RegExp(` PART ${room} :reorganised$`));
    await irv.expect(new RegExp(` JOIN ${to}$`));
    await irv.expect(new RegExp(` 332 \\S+ ${to} :kept across nodes$`));
    const names = await irv.expect(new RegExp(` 353 \\S+ = ${to} :`));
    expect(names).toContain(`@${aName}`);
    expect(names).toContain(bName);

    // The keys moved: the offset went on by one (the rename itself), under the new name.
    expect(Number(await meta(to.toLowerCase()))).toBe(before + 1);
    expect(await redis.cli('EXISTS', `pb:{r:${room.toLowerCase()}}:meta`)).toBe('0');
    expect(await redis.cli('GET', `pb:{r:${room.toLowerCase()}}:moved`)).toBe(to);
    expect(await redis.cli('HGET', `pb:{r:${to.toLowerCase()}}:state`, 'topic')).toBe(
      'kept across nodes',
    );
    // bob's current room followed; both nodes order the new name's events after it.
    bob.send('after the rename, node b');
    await alice.expect(new RegExp(`PRIVMSG ${to} :after the rename, node b$`));
    alice.send(`PRIVMSG ${to} :after the rename, node a`);
    await bob.expect(new RegExp(`<${aName}> after the rename, node a$`));
    await carol.expect((m) => m.type === 'message' && m.text === 'after the rename, node a');
    expect(Number(await meta(to.toLowerCase()))).toBe(before + 3);
    for (const node of nodes) expect(node.hub.counters.busGaps).toBe(0);
    // Someone new on node b joins the new name: the replica comes from the moved keys.
    const dave = await RawFramedClient.hello(portOf(b, 'framed'), name('dave'));
    dave.send({ type: 'join', room: to, ref: 2 });
    const joined = await dave.expect((m) => m.type === 'joined' && m.ref === 2);
    expect(joined.topic).toBe('kept across nodes');
    expect((joined.members as { name: string }[]).map((m) => m.name)).toContain(aName);
    for (const c of [alice, irv]) c.close();
    bob.close();
    carol.close();
    dave.close();
  });

  test('two renames racing on two nodes: one outcome everywhere', async () => {
    const [a, b] = nodes as [RunningServer, RunningServer];
    // Bob's rename goes a little after alice's, by a different delay each round: some
    // round has bob's node apply alice's rename while it is checking its own.
    for (const delayMs of [0, 1, 2, 3, 5, 8]) {
      const room = `#race${++n}`;
      const aName = name('alice');
      const bName = name('bob');
      const alice = await RawIrcClient.withCaps(portOf(a, 'irc'), aName, 'draft/channel-rename');
      await alice.join(room);
      const bob = await RawIrcClient.withCaps(portOf(b, 'irc'), bName, 'draft/channel-rename');
      await bob.join(room);
      alice.send(`MODE ${room} +o ${bName}`);
      await bob.expect(new RegExp(` MODE ${room} \\+o ${bName}`));
      alice.send(`RENAME ${room} ${room}-a :mine`);
      await new Promise((r) => setTimeout(r, delayMs));
      bob.send(`RENAME ${room} ${room}-b :no, mine`);
      // Each sees exactly one RENAME, the same one; the loser's own is refused.
      const winner = /^:\S+ RENAME \S+ (\S+) /;
      const wonA = winner.exec(await alice.expect(winner))?.[1];
      const wonB = winner.exec(await bob.expect(winner))?.[1];
      expect(wonA).toBe(wonB);
      const won = wonA as string;
      expect([`${room}-a`, `${room}-b`]).toContain(won);
      const loser = won === `${room}-a` ? bob : alice;
      for (const c of [alice, bob]) {
        c.send('PING settled');
        await c.expect(/PONG .*settled/);
        const renames = c.lines.filter((l) => winner.test(l));
        expect(renames, renames.join('\n')).toHaveLength(1);
      }
      // Refused by the script (the room moved first) or by the node (it had applied it).
      expect(loser.lines.some((l) => / FAIL RENAME CANNOT_RENAME | 403 /.test(l))).toBe(true);
      // One room under the winning name, both members in it, on both nodes and in Redis.
      for (const node of nodes) {
        expect(node.hub.room(won)?.size).toBe(2);
        expect(node.hub.room(room)).toBeUndefined();
      }
      expect(await redis.cli('HLEN', `pb:{r:${won.toLowerCase()}}:members`)).toBe('2');
      alice.close();
      bob.close();
    }
  });

  test('an event a node sends to the old name after the move is sequenced under the new one', async () => {
    const [a] = nodes as [RunningServer, RunningServer];
    const room = `#late${++n}`;
    const to = `${room}-new`;
    const aName = name('alice');
    const alice = await RawIrcClient.withCaps(portOf(a, 'irc'), aName, 'draft/channel-rename');
    await alice.join(room);
    const bName = name('bob');
    const bob = await RawIrcClient.register(portOf(nodes[1] as RunningServer, 'irc'), bName);
    await bob.join(room);
    alice.send(`RENAME ${room} ${to}`);
    await alice.expect(new RegExp(` RENAME ${room} ${to} `));
    await bob.expect(new RegExp(` JOIN ${to}$`));
    const top = Number(await meta(to.toLowerCase()));
    // What a node that had not yet applied the rename would send: bob's part, for the old
    // name (SEQUENCE finds it moved and it goes on to the new name, at the next offset).
    const link = (a.hub.bus as RedisBus).link;
    const who = { name: bName, mask: `${bName}!~${bName}@127.0.0.1`, account: null };
    const origin = (nodes[1] as RunningServer).hub.find(bName)?.id as string;
    const event = { type: 'left', ts: Date.now(), origin, room, who, reason: 'late' } as const;
    const at = await sequenceEnvelope(
      link,
      { o: 'x', s: 1, c: `r:${room.toLowerCase()}`, k: 1, e: event },
      '#lobby',
    );
    expect(at).toMatchObject({ p: top + 1, c: `r:${to.toLowerCase()}` });
    expect(at.e).toMatchObject({ type: 'left', room: to });
    expect(await redis.cli('HEXISTS', `pb:{r:${to.toLowerCase()}}:members`, bName)).toBe('0');
    expect(await redis.cli('EXISTS', `pb:{r:${room.toLowerCase()}}:meta`)).toBe('0');
    // A join of the old name makes a new room there (the name is free again).
    const carol = await RawIrcClient.register(portOf(a, 'irc'), name('carol'));
    await carol.join(room);
    const names = carol.lines.find((l) => / 353 /.test(l));
    expect(names).toMatch(/:@carol\d+$/);
    alice.close();
    bob.close();
    carol.close();
  });
});

describe('a rename on a Redis Cluster', () => {
  let backend: RedisBackend;
  let servers: RunningServer[] = [];
  beforeAll(async () => {
    backend = await (REDIS_BACKENDS.find((b) => b.cluster) as RedisBackendKind).start();
    for (let i = 0; i < 3; i++) {
      servers.push(
        await startServer(
          testConfig([
            ...['--bus', backend.url, '--irc-port', '0', '--framed-port', '0'],
            ...['--flood-rate', '0', '--rename-grace', '0', '--rename-cooldown', '0'],
          ]),
          silentLogger,
        ),
      );
    }
  }, 60_000);
  afterAll(async () => {
    for (const s of servers) await s.close();
    servers = [];
    await backend?.dispose();
  });

  /** A name for the room `room` is renamed to whose keys are on another master. */
  async function otherShard(room: string): Promise<string> {
    const c = backend.cluster as NonNullable<RedisBackend['cluster']>;
    const home = await c.masterOf(`pb:{r:${room.toLowerCase()}}:meta`);
    for (let i = 0; i < 50; i++) {
      const to = `${room}-to${i}`;
      if ((await c.masterOf(`pb:{r:${to.toLowerCase()}}:meta`)) !== home) {
        const slots = await Promise.all(
          [room, to].map((r) => c.keyslot(`pb:{r:${r.toLowerCase()}}:meta`)),
        );
        expect(slots[0]).not.toBe(slots[1]);
        return to;
      }
    }
    throw new Error('no name on another shard');
  }

  test('a rename across shards: every protocol on three nodes follows, history and offsets go with it', async () => {
    const [a, b, c] = servers as [RunningServer, RunningServer, RunningServer];
    const room = `#Shard${++n}`;
    const to = await otherShard(room);
    const aName = name('alice');
    const alice = await RawIrcClient.withCaps(portOf(a, 'irc'), aName, 'draft/channel-rename');
    await alice.join(room);
    const irv = await RawIrcClient.register(portOf(b, 'irc'), name('irv'));
    await irv.join(room);
    const bName = name('bob');
    const bob = await LineClient.named(portOf(c, 'line'), bName);
    bob.send(`/join ${room}`);
    await bob.expect(new RegExp(`You joined ${room}`));
    const carol = await RawFramedClient.hello(portOf(b, 'framed'), name('carol'));
    carol.send({ type: 'join', room, ref: 1 });
    await carol.expect((m) => m.type === 'joined' && m.ref === 1);
    bob.send('before the move');
    await alice.expect(new RegExp(`PRIVMSG ${room} :before the move$`));
    await irv.expect(/:before the move$/);
    const metaOf = (r: string) => `pb:{r:${r.toLowerCase()}}:meta`;
    const link = (a.hub.bus as RedisBus).link;
    const before = Number(await link.command(['HGET', metaOf(room), 's']));
    const epoch = String(await link.command(['HGET', metaOf(room), 'e']));

    alice.send(`RENAME ${room} ${to} :across shards`);
    await alice.expect(new RegExp(` RENAME ${room} ${to} :across shards$`));
    await bob.expect(
      new RegExp(`^\\* ${room} is now ${to} \\(renamed by ${aName}: across shards\\)$`),
    );
    expect(await carol.expect((m) => m.type === 'rename')).toMatchObject({ room, to });
    await irv.expect(new RegExp(` PART ${room} :across shards$`));
    await irv.expect(new RegExp(` JOIN ${to}$`));
    // The room's keys are under the new name, on its shard, offset and epoch with them.
    // Nodes apply the rename when it is published (step 2); the keys arrive just after.
    const incoming = `pb:{r:${to.toLowerCase()}}:incoming`;
    for (let i = 0; i < 100 && (await link.command(['EXISTS', incoming])) === 1; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(Number(await link.command(['HGET', metaOf(to), 's']))).toBe(before + 1);
    expect(String(await link.command(['HGET', metaOf(to), 'e']))).toBe(epoch);
    expect(await link.command(['EXISTS', metaOf(room)])).toBe(0);
    expect(await backend.keys(`pb:{r:${room.toLowerCase()}}:out:*`)).toEqual([]);
    // Chat goes on under the new name from every node; no gap anywhere.
    bob.send('after the move, node c');
    await alice.expect(new RegExp(`PRIVMSG ${to} :after the move, node c$`));
    await irv.expect(new RegExp(`PRIVMSG ${to} :after the move, node c$`));
    await carol.expect((m) => m.type === 'message' && m.text === 'after the move, node c');
    alice.send(`PRIVMSG ${to} :after the move, node a`);
    await bob.expect(new RegExp(`<${aName}> after the move, node a$`));
    expect(Number(await link.command(['HGET', metaOf(to), 's']))).toBe(before + 3);
    for (const s of servers) {
      expect(s.hub.counters.busGaps).toBe(0);
      expect(s.hub.room(to)?.size).toBe(4);
      expect(s.hub.room(room)).toBeUndefined();
    }
    // History kept under the new name: Redis's window (a replay's tail) has the message
    // from before the rename, at its offset in the same epoch.
    const tail = await (b.hub.bus as RedisBus).messagesBefore(
      to.toLowerCase(),
      epoch,
      before + 4,
      10,
    );
    const texts = tail.messages.map((m) => (m.event as { text?: string }).text);
    expect(texts).toContain('before the move');
    expect(texts).toContain('after the move, node a');
    // Someone new on node c joins the new name: the replica comes from the moved keys.
    const dave = await RawFramedClient.hello(portOf(c, 'framed'), name('dave'));
    dave.send({ type: 'join', room: to, ref: 2 });
    const joined = await dave.expect((m) => m.type === 'joined' && m.ref === 2);
    expect((joined.members as { name: string }[]).map((m) => m.name)).toContain(aName);
    // The old name is free: a join makes a new room there.
    const erin = await RawIrcClient.register(portOf(c, 'irc'), name('erin'));
    await erin.join(room);
    expect(erin.lines.find((l) => / 353 /.test(l))).toMatch(/:@erin\d+$/);
    for (const x of [alice, irv, erin]) x.close();
    bob.close();
    carol.close();
    dave.close();
  });

  test('a change of case stays in its slot and works', async () => {
    const [a, b] = servers as [RunningServer, RunningServer];
    const room = `#Case${++n}`;
    const alice = await RawIrcClient.withCaps(
      portOf(a, 'irc'),
      name('alice'),
      'draft/channel-rename',
    );
    await alice.join(room);
    const bob = await RawIrcClient.withCaps(portOf(b, 'irc'), name('bob'), 'draft/channel-rename');
    await bob.join(room);
    alice.send(`RENAME ${room} ${room.toLowerCase()} :case`);
    await alice.expect(new RegExp(` RENAME ${room} ${room.toLowerCase()} :case$`));
    await bob.expect(new RegExp(` RENAME ${room} ${room.toLowerCase()} :case$`));
    bob.send(`PRIVMSG ${room.toLowerCase()} :still one room`);
    await alice.expect(new RegExp(`PRIVMSG ${room.toLowerCase()} :still one room$`));
    for (const s of [a, b]) expect(s.hub.room(room)?.name).toBe(room.toLowerCase());
    alice.close();
    bob.close();
  });
});

describe.each(REDIS_BACKENDS)('a JOIN of the new name racing a rename ($name)', (kind) => {
  let backend: RedisBackend;
  let servers: RunningServer[] = [];
  beforeAll(async () => {
    backend = await kind.start();
    for (let i = 0; i < 2; i++) {
      servers.push(
        await startServer(
          testConfig(['--bus', backend.url, '--irc-port', '0', '--flood-rate', '0']),
          silentLogger,
        ),
      );
    }
  }, 60_000);
  afterAll(async () => {
    for (const s of servers) await s.close();
    servers = [];
    await backend?.dispose();
  });

  test('one outcome: the rename is refused (name taken) or the joiner joins the renamed room', async () => {
    const [a, b] = servers as [RunningServer, RunningServer];
    const link = (a.hub.bus as RedisBus).link;
    const outcomes = new Set<string>();
    // The join goes a little before or after the rename, by a different delay each round
    // (bounded: 8 rounds), so that rounds fall on each side and, on a cluster, between the
    // rename's steps.
    for (const delayMs of [-6, -2, 0, 0, 1, 2, 4, 8]) {
      const room = `#jrace${++n}`;
      const to = `#jnew${n}`;
      const aName = name('alice');
      const bName = name('bob');
      const alice = await RawIrcClient.withCaps(portOf(a, 'irc'), aName, 'draft/channel-rename');
      await alice.join(room);
      const bob = await RawIrcClient.withCaps(portOf(b, 'irc'), bName, 'draft/channel-rename');
      const rename = () => alice.send(`RENAME ${room} ${to} :race`);
      const join = () => bob.send(`JOIN ${to}`);
      if (delayMs < 0) {
        join();
        await new Promise((r) => setTimeout(r, -delayMs));
        rename();
      } else {
        rename();
        await new Promise((r) => setTimeout(r, delayMs));
        join();
      }
      const renamed = new RegExp(` RENAME ${room} ${to} :race$`);
      const refused = new RegExp(`FAIL RENAME CHANNEL_NAME_IN_USE |FAIL RENAME CANNOT_RENAME `);
      const said = await alice.expect(new RegExp(`${renamed.source}|${refused.source}`));
      await bob.expect(new RegExp(` 366 \\S+ ${to} `));
      for (const c of [alice, bob]) {
        c.send('PING settled');
        await c.expect(/PONG .*settled/);
      }
      const members = async (r: string) =>
        Number(await link.command(['HLEN', `pb:{r:${r.toLowerCase()}}:members`]));
      if (renamed.test(said)) {
        // The joiner is in the renamed room with alice: one room, on both nodes.
        outcomes.add('renamed');
        // (hub.room().size counts what a node learnt by events, not the snapshot's members.)
        expect(bob.lines.find((l) => l.includes(` 353 ${bName} = ${to} :`))).toContain(`@${aName}`);
        // Bob's join reaches alice's node through Redis, after her own PONG perhaps.
        const joined = new RegExp(`^:${bName}!~${bName}@127\\.0\\.0\\.1 JOIN ${to}$`);
        if (!alice.lines.some((l) => joined.test(l))) await alice.expect(joined);
        for (const s of servers) {
          expect(s.hub.room(room)).toBeUndefined();
        }
        expect(bob.lines.some((l) => l.includes(` RENAME ${room} ${to} `))).toBe(false);
        expect(await members(to)).toBe(2);
        expect(await members(room)).toBe(0);
      } else {
        // The joiner made the new name first: the rename is refused, two rooms.
        outcomes.add('refused');
        expect(b.hub.room(to)?.size).toBe(1);
        expect(alice.lines.some((l) => l.includes(` JOIN ${to}`))).toBe(false);
        expect(a.hub.room(room)?.size).toBe(1);
        expect(await members(to)).toBe(1);
        expect(await members(room)).toBe(1);
      }
      expect(
        await backend.keys(`pb:{r:${to.toLowerCase()}}:incoming`),
        'no reservation left behind',
      ).toEqual([]);
      alice.close();
      bob.close();
    }
    // Which outcome each round had depends on timing; each round had exactly one.
    console.info(`${kind.name}: outcomes seen: ${[...outcomes].join(', ')}`);
  });
});
