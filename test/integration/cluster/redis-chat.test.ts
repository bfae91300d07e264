/**
 * Three nodes on one real redis-server (the test's own): one chat. People on each node,
 * in every protocol, share rooms, names, private messages and moderation; every reader on
 * every node sees a room in one order; a Redis restart in the middle of traffic is
 * survived and said. On one redis-server and on a Redis Cluster of three masters (where
 * rooms on different shards are carried each by its own shard).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { runAdminCommand } from '../../../src/admin/commands.js';
import { roomKeys } from '../../../src/cluster/redis-keys.js';
import { silentLogger } from '../../../src/core/ports.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { RawFramedClient } from '../../helpers/framed-client.js';
import { RawIrcClient } from '../../helpers/irc-client.js';
import { LineClient } from '../../helpers/line-client.js';
import { REDIS_BACKENDS, type RedisBackend } from '../../helpers/redis-backends.js';
import type { TestRedis } from '../../helpers/redis.js';
import type { TestRedisCluster } from '../../helpers/redis-cluster.js';
import { portOf, testConfig } from '../../helpers/server.js';
import { WsClient } from '../../helpers/ws-client.js';

let n = 0;
const name = (base: string) => `${base}${++n}`;

async function startNodes(url: string, count: number): Promise<RunningServer[]> {
  const out: RunningServer[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      await startServer(
        testConfig([
          '--bus',
          url,
          '--irc-port',
          '0',
          '--framed-port',
          '0',
          '--http-port',
          '0',
          '--flood-rate',
          '0',
        ]),
        silentLogger,
      ),
    );
  }
  return out;
}

describe.each(REDIS_BACKENDS)('three nodes, one chat, on $name', (kind) => {
  let redis: RedisBackend;
  let nodes: RunningServer[] = [];
  beforeAll(async () => {
    redis = await kind.start();
  });
  afterAll(async () => {
    for (const s of nodes) await s.close();
    await redis?.dispose();
  });
  beforeEach(async () => {
    for (const s of nodes) await s.close();
    await redis.flush();
    nodes = await startNodes(redis.url, 3);
  });

  test('a room spread over three nodes: line, IRC, framed and WebSocket people hear each other', async () => {
    const [a, b, c] = nodes as [RunningServer, RunningServer, RunningServer];
    const lineName = name('lina');
    const ircName = name('irca');
    const line = await LineClient.named(portOf(a, 'line'), lineName);
    const irc = await RawIrcClient.register(portOf(b, 'irc'), ircName);
    irc.send('JOIN #lobby');
    await irc.expect(/ 366 /);
    const framed = await RawFramedClient.hello(portOf(c, 'framed'), name('fram'));
    const ws = await WsClient.hello(portOf(a, 'http'), name('webb'));
    // NAMES on node b lists the line user of node a: presence is shared.
    expect(irc.lines.find((l) => / 353 /.test(l))).toContain(lineName);
    line.send('hello from node a');
    await irc.expect(new RegExp(`:${lineName}!\\S+ PRIVMSG #lobby :hello from node a$`));
    await framed.expect((m) => m.type === 'message' && m.text === 'hello from node a');
    await ws.expect((m) => m.type === 'message' && m.text === 'hello from node a');
    irc.send('PRIVMSG #lobby :and from node b');
    await line.expect(new RegExp(`<${ircName}> and from node b$`));
    await framed.expect((m) => m.type === 'message' && m.text === 'and from node b');
    framed.send({ type: 'say', room: '#lobby', text: 'node c speaking', ref: 1 });
    await framed.expect((m) => m.type === 'ok' && m.ref === 1);
    await line.expect(/node c speaking$/);
    await irc.expect(/PRIVMSG #lobby :node c speaking$/);
    // Everyone online, on every node.
    line.send('/who');
    await line.expect(new RegExp(`^\\* In #lobby \\(4\\): .*${ircName}`));
    // LUSERS counts the whole chat (the other nodes' parts as of their last lease round,
    // so it is asked until they are in), and its "max" is never below what is online now
    // (node b's own peak is 1: it said "local users 4, max 1").
    let luser = '';
    for (let i = 0; i < 40 && !/ 266 \S+ 4 /.test(luser); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 250));
      irc.send('LUSERS');
      const [, visible, invisible] = / 251 .*There are (\d+) users and (\d+) invisible/.exec(
        await irc.expect(/ 251 /),
      ) as unknown as [string, string, string];
      expect(Number(visible) + Number(invisible)).toBeGreaterThanOrEqual(1);
      const local = await irc.expect(/ 265 /);
      luser = await irc.expect(/ 266 /);
      for (const l of [local, luser]) {
        const [, now, max] = / 26[56] \S+ (\d+) (\d+) /.exec(l) as unknown as [
          string,
          string,
          string,
        ];
        expect(Number(max), l).toBeGreaterThanOrEqual(Number(now));
      }
    }
    expect(luser).toMatch(/ 266 \S+ 4 4 :Current global users 4, max 4$/);
    for (const x of [line, framed, ws]) x.close?.();
    irc.socket.destroy();
  });

  test.runIf(kind.cluster)(
    'two rooms on different shards: each carried by its own shard, both heard on both nodes',
    async () => {
      const c = redis.cluster as TestRedisCluster;
      const [a, b] = nodes as [RunningServer, RunningServer];
      // A room whose keys (and channel) hash to another master than #lobby's.
      const lobby = roomKeys('#lobby').channel;
      const lobbyShard = await c.masterOf(lobby);
      let other = '';
      for (let i = 1; i <= 40 && !other; i++) {
        if ((await c.masterOf(roomKeys(`#shard${i}`).channel)) !== lobbyShard) other = `#shard${i}`;
      }
      const otherShard = await c.masterOf(roomKeys(other).channel);
      expect(otherShard).not.toBe(lobbyShard);
      const nc = await LineClient.named(portOf(a, 'line'), name('nc'));
      const telnet = await LineClient.named(portOf(b, 'line'), name('tel'));
      for (const x of [nc, telnet]) {
        x.send(`/join ${other}`);
        await x.expect(new RegExp(`You joined ${other}`));
      }
      // Each node listens to each room on the shard that serves it (SSUBSCRIBE).
      const subscribers = async (shard: number, channel: string) =>
        (await (c.masters[shard] as TestRedis).cli('PUBSUB', 'SHARDNUMSUB', channel)).split(
          '\n',
        )[1];
      expect(await subscribers(lobbyShard, lobby)).toBe('2');
      expect(await subscribers(otherShard, roomKeys(other).channel)).toBe('2');
      nc.send('on the other shard');
      await telnet.expect(/on the other shard$/);
      telnet.send(`/switch #lobby`);
      await telnet.expect(/current room is now #lobby/);
      telnet.send('and in the lobby');
      await nc.expect(/and in the lobby$/);
      // Each room's messages were published by its own shard's script (SPUBLISH there).
      const spublished = async (shard: number) => {
        const info = await (c.masters[shard] as TestRedis).cli('INFO', 'commandstats');
        return Number(/cmdstat_spublish:calls=(\d+)/.exec(info)?.[1] ?? 0);
      };
      expect(await spublished(lobbyShard)).toBeGreaterThan(0);
      expect(await spublished(otherShard)).toBeGreaterThan(0);
      for (const x of [nc, telnet]) x.close();
    },
  );

  test('the same name claimed on two nodes at once: exactly one wins', async () => {
    const [a, b] = nodes as [RunningServer, RunningServer];
    const wanted = name('twin');
    const one = await LineClient.connect(portOf(a, 'line'));
    const two = await LineClient.connect(portOf(b, 'line'));
    await one.expect(/Choose a name: /);
    await two.expect(/Choose a name: /);
    one.send(wanted);
    two.send(wanted);
    const outcome = async (c: LineClient) =>
      /Welcome, /.test(await c.expect(/^\* Welcome, |already in use/)) ? 'won' : 'lost';
    const results = await Promise.all([outcome(one), outcome(two)]);
    expect(results.sort()).toEqual(['lost', 'won']);
    one.close();
    two.close();
  });

  test('private messages, kicks, bans, topics and modes reach people on other nodes', async () => {
    const [a, b] = nodes as [RunningServer, RunningServer];
    const opName = name('oper');
    const victimName = name('vict');
    const op = await LineClient.named(portOf(a, 'line'), opName);
    op.send('/join #mods');
    await op.expect(/You joined #mods \(new room: you are its operator\)/);
    const victim = await RawIrcClient.register(portOf(b, 'irc'), victimName);
    victim.send('JOIN #mods');
    await victim.expect(/ 366 /);
    await op.expect(new RegExp(`\\* ${victimName} joined #mods`));
    op.send(`/msg ${victimName} a word in private`);
    await victim.expect(new RegExp(`:${opName}!\\S+ PRIVMSG ${victimName} :a word in private$`));
    op.send('/topic across nodes');
    await victim.expect(/TOPIC #mods :across nodes$/);
    op.send(`/op #mods ${victimName}`);
    await victim.expect(new RegExp(`MODE #mods \\+o ${victimName}$`));
    op.send(`/deop #mods ${victimName}`);
    await victim.expect(new RegExp(`MODE #mods -o ${victimName}$`));
    op.send(`/kick #mods ${victimName} behave`);
    await victim.expect(new RegExp(`KICK #mods ${victimName} :behave$`));
    op.send(`/ban #mods ${victimName} enough`);
    await op.expect(/Banned/);
    victim.send('JOIN #mods');
    await victim.expect(/ 474 /); // ERR_BANNEDFROMCHAN, decided on node b from shared state
    // Node b's replica holds what node a did.
    op.close();
    victim.socket.destroy();
  });

  test('senders on all three nodes at once: every reader on every node sees one order', async () => {
    const readers = await Promise.all(
      nodes.map((s, i) => LineClient.named(portOf(s, 'line'), name(`read${i}`))),
    );
    const senders = await Promise.all(
      nodes.map((s, i) => LineClient.named(portOf(s, 'line'), name(`send${i}`))),
    );
    const per = 30;
    for (let k = 0; k < per; k++) senders.forEach((s, i) => s.send(`order ${i}.${k}`));
    const seen = (c: LineClient) =>
      c.lines.filter((l) => / order \d+\.\d+$/.test(l)).map((l) => l.slice(l.lastIndexOf('order')));
    const deadline = Date.now() + 15_000;
    while (readers.some((r) => seen(r).length < 3 * per) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const first = seen(readers[0] as LineClient);
    expect(first).toHaveLength(3 * per);
    for (const r of readers) expect(seen(r)).toEqual(first);
    for (const c of [...readers, ...senders]) c.close();
  });

  test('the admin console shows the cluster: nodes, users per node, Redis round trip', async () => {
    const [a, b, c] = nodes as [RunningServer, RunningServer, RunningServer];
    const one = await LineClient.named(portOf(a, 'line'), name('adm'));
    const two = await LineClient.named(portOf(b, 'line'), name('adm'));
    const three = await LineClient.named(portOf(b, 'line'), name('adm'));
    const ctx = { hub: c.hub, shutdown: () => {} };
    // Each node publishes its count with its lease, every few seconds: ask until all did.
    const users = (lines: string[], node: RunningServer) =>
      lines.find((l) => l.startsWith(`  ${node.hub.nodeId}`))?.match(/: (\d+) users$/)?.[1];
    let cluster: string[] = [];
    for (let i = 0; i < 60; i++) {
      cluster = await runAdminCommand(ctx, 'cluster');
      if (users(cluster, a) === '1' && users(cluster, b) === '2') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(cluster[0]).toMatch(/^3 nodes; redis round trip \d+\.\d\d ms; this node \S+$/);
    expect([users(cluster, a), users(cluster, b), users(cluster, c)]).toEqual(['1', '2', '0']);
    expect(cluster.some((l) => l.includes(`${c.hub.nodeId} (this one)`))).toBe(true);
    const stats = await runAdminCommand(ctx, 'stats');
    expect(stats).toContain(
      stats.find((l) => /^cluster: 3 nodes, 3 users; redis round trip [\d.]+ ms/.test(l)),
    );
    expect(stats.some((l) => l.startsWith(`bus redis, node ${c.hub.nodeId}: healthy;`))).toBe(true);
    for (const x of [one, two, three]) x.close();
  });

  test.runIf(kind.cluster)(
    'a shard away: the chat is degraded and sends refused, in every room; back: whole again',
    { timeout: 60_000 },
    async () => {
      const c = redis.cluster as TestRedisCluster;
      const [a, b] = nodes as [RunningServer, RunningServer];
      const speaker = await RawFramedClient.hello(portOf(a, 'framed'), name('shard'));
      const listener = await LineClient.named(portOf(b, 'line'), name('hear'));
      // Not #lobby's shard: a room elsewhere is refused too (the bus is one).
      const lobbyShard = await c.masterOf(roomKeys('#lobby').channel);
      const away = c.masters[(lobbyShard + 1) % c.masters.length] as TestRedis;
      await away.stop();
      await speaker.expect((m) => m.type === 'notice' && /degraded/.test(String(m.text)));
      speaker.send({ type: 'say', room: '#lobby', text: 'into the void', ref: 'v' });
      expect(await speaker.expect((m) => m.ref === 'v')).toMatchObject({
        type: 'error',
        code: 'bus_unavailable',
      });
      // The same port and directory: its nodes.conf brings it back into the cluster.
      await away.restart();
      await speaker.expect(
        (m) => m.type === 'notice' && /whole again/.test(String(m.text)),
        30_000,
      );
      let heard = false;
      for (let i = 0; i < 50 && !heard; i++) {
        speaker.send({ type: 'say', room: '#lobby', text: `back ${i}`, ref: `b${i}` });
        heard = await listener
          .expect(new RegExp(`back ${i}$`), 500)
          .then(() => true)
          .catch(() => false);
      }
      expect(heard).toBe(true);
      speaker.close();
      listener.close();
    },
  );

  test.runIf(!kind.cluster)(
    'while Redis is away, a send is refused to its sender and /readyz says not ready',
    async () => {
      const [a] = nodes as [RunningServer];
      const one = redis.redis as TestRedis;
      const c = await RawFramedClient.hello(portOf(a, 'framed'), name('away'));
      await one.stop();
      await c.expect((m) => m.type === 'notice' && /degraded/.test(String(m.text)));
      c.send({ type: 'say', room: '#lobby', text: 'into the void', ref: 'v' });
      const refused = await c.expect((m) => m.ref === 'v');
      expect(refused).toMatchObject({ type: 'error', code: 'bus_unavailable' });
      const ready = await fetch(`http://127.0.0.1:${portOf(a, 'http')}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ bus: false });
      const metrics = await (await fetch(`http://127.0.0.1:${portOf(a, 'http')}/metrics`)).text();
      expect(metrics).toMatch(/^plugboard_bus_healthy 0$/m);
      await one.restart();
      await c.expect((m) => m.type === 'notice' && /whole again/.test(String(m.text)), 15_000);
      c.close();
    },
  );

  test.runIf(!kind.cluster)(
    'Redis restarts in the middle of traffic: people are told, chat resumes, nothing twice',
    async () => {
      const [a, b] = nodes as [RunningServer, RunningServer];
      const one = redis.redis as TestRedis;
      const speaker = await LineClient.named(portOf(a, 'line'), name('talk'));
      const listener = await LineClient.named(portOf(b, 'line'), name('hear'));
      speaker.send('before the restart');
      await listener.expect(/before the restart$/);
      await one.restart();
      await listener.expect(/The chat is degraded/);
      await listener.expect(/The chat is whole again/, 15_000);
      // Sending works again once the node is back (it may take a lease round to restore).
      let heard = false;
      for (let i = 0; i < 50 && !heard; i++) {
        speaker.send(`after the restart ${i}`);
        heard = await listener
          .expect(new RegExp(`after the restart ${i}$`), 300)
          .then(() => true)
          .catch(() => false);
      }
      expect(heard).toBe(true);
      const copies = listener.lines.filter((l) => /before the restart$/.test(l));
      expect(copies).toHaveLength(1);
      // The lost history (a restart without persistence) was said.
      expect(listener.lines.some((l) => /history of #lobby is no longer available/.test(l))).toBe(
        true,
      );
      speaker.close();
      listener.close();
    },
  );
});
