/**
 * The subscription probe on a Redis Cluster of three masters: each shard a node listens on
 * has its own sharded pub/sub connection, and each is probed. One shard's subscription
 * falls silent (its master paused: the connections stay up, nothing is delivered) while
 * the node's own channel and everyone's are on other shards: the node finds it, says the
 * bus is unhealthy, and once the shard delivers again catches the room up from its stream
 * (an event sequenced meanwhile that never reached it is delivered).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Envelope } from '../../src/cluster/bus.js';
import { connectRedis } from '../../src/cluster/redis-client.js';
import { RedisBus } from '../../src/cluster/redis-bus.js';
import {
  allRedisChannel,
  nodeRedisChannel,
  roomKeyList,
  roomKeys,
} from '../../src/cluster/redis-keys.js';
import { SEQUENCE } from '../../src/cluster/redis-scripts.js';
import type { ChatEvent, NoticeEvent } from '../../src/core/events.js';
import { silentLogger } from '../../src/core/ports.js';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';

const PROBE_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: TestRedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster(3);
});
afterAll(async () => {
  await cluster?.dispose();
});

async function until(what: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!what() && Date.now() < deadline) await sleep(20);
  return what();
}

test('a silent shard other than the node channel’s is found, and its rooms caught up', async () => {
  const bus = await RedisBus.connect({
    url: cluster.url,
    log: silentLogger,
    defaultRoom: '#lobby',
    probeMs: PROBE_MS,
  });
  const got: string[] = [];
  await bus.start({ deliver: (e: ChatEvent) => got.push((e as NoticeEvent).text), gap: () => {} });
  // A room on the master that serves neither this node's channel nor everyone's.
  const taken = new Set([
    await cluster.masterOf(nodeRedisChannel(bus.nodeId)),
    await cluster.masterOf(allRedisChannel),
  ]);
  let room = '';
  for (let i = 0; room === ''; i++) {
    if (!taken.has(await cluster.masterOf(roomKeys(`#r${i}`).channel))) room = `#r${i}`;
  }
  const shard = cluster.masters[await cluster.masterOf(roomKeys(room).channel)]!;
  bus.watch(room);
  const snap = await bus.snapshot(room);
  bus.resume(room, { epoch: snap.epoch, next: snap.offset + 1 });
  // Probes go round and come back.
  await sleep(3 * PROBE_MS);
  expect(bus.healthy()).toBe(true);

  const pausedAt = Date.now();
  await shard.cli('CLIENT', 'PAUSE', String(20 * PROBE_MS), 'ALL');
  expect(await until(() => !bus.healthy(), 6 * PROBE_MS)).toBe(true);
  // Two judged rounds without the probe back, after the first that went out paused.
  expect(Date.now() - pausedAt).toBeLessThanOrEqual(4 * PROBE_MS + 1000);
  await shard.cli('CLIENT', 'UNPAUSE');

  // Sequenced into the room's stream while the node is still on its way back, and
  // published where nobody listens: only catching up from the stream brings it.
  const link = await connectRedis({ url: cluster.url, log: silentLogger });
  const keys = roomKeys(room);
  const envelope: Envelope = {
    o: 'nelsewhere',
    s: 1,
    c: `r:${room}`,
    k: 1,
    e: { type: 'notice', ts: Date.now(), origin: 'nelsewhere', text: 'while silent', room },
  };
  await link.script(SEQUENCE, roomKeyList(keys), [
    `${keys.channel}:nowhere`,
    JSON.stringify(envelope),
    '1000',
    snap.epoch,
    '[]',
    'SPUBLISH',
  ]);
  expect(await until(() => bus.healthy(), 6 * PROBE_MS)).toBe(true);
  expect(await until(() => got.includes('while silent'), 4 * PROBE_MS)).toBe(true);
  await link.close();
  await bus.close();
}, 60_000);
