/**
 * A node's own lease must keep being renewed while it cleans up after a lost node: that
 * cleanup announces every lost user's quit and can take longer than a lease, and a
 * renewal that waited behind it let the cleaner's lease lapse, so the others cleaned the
 * cleaner up (its live users announced gone), and so on until no node was left.
 *
 * Real redis-server; the node side is the real Leases class with hooks whose `emit`
 * takes its time, as a busy node's does.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Leases } from '../../../src/cluster/leases.js';
import { connectRedis } from '../../../src/cluster/redis-client.js';
import { leaseKey, NODES, nodeUsersKey, userKey } from '../../../src/cluster/redis-keys.js';
import { newNodeId } from '../../../src/core/ids.js';
import { silentLogger } from '../../../src/core/ports.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a long cleanup of a lost node does not hold up the cleaner’s own renewals', async () => {
  await redis.cli('FLUSHALL');
  const link = await connectRedis({ url: redis.url, log: silentLogger });
  // The lost node: in the node set, no lease, six users on record.
  const lost = newNodeId();
  await link.command(['SADD', NODES, lost]);
  for (let i = 1; i <= 6; i++) {
    const origin = `${lost}.${i}`;
    await link.command(['HSET', userKey(origin), 'name', `lost${i}`, 'host', 'h', 'rooms', '[]']);
    await link.command(['SADD', nodeUsersKey(lost), origin]);
  }
  const me = newNodeId();
  let quits = 0;
  const leases = new Leases(
    link,
    me,
    {
      // Each announcement takes 400 ms: six of them, 2.4 s, are well over the 1 s lease.
      emit: async (event) => {
        await sleep(400);
        if (event.type === 'quit') quits++;
      },
      counts: () => ['users', '0'],
      evicted: () => {},
      restore: async () => {},
    },
    silentLogger,
    { leaseMs: 1000, renewMs: 250 },
  );
  await leases.start();
  try {
    let lapsed = 0;
    const until = Date.now() + 15_000;
    while (quits < 6 && Date.now() < until) {
      if (Number(await link.command(['PTTL', leaseKey(me)])) < 0) lapsed++;
      await sleep(100);
    }
    expect(quits).toBe(6);
    expect(lapsed).toBe(0);
    expect(Number(await link.command(['SISMEMBER', NODES, me]))).toBe(1);
  } finally {
    await leases.stop();
    await link.close();
  }
});

/** Holds this thread (the node's main loop) for `ms`, as a starved or busy loop does. */
function holdLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: no timer of this loop runs meanwhile
  }
}

/** A node's leases with hooks that do nothing, on a 1 s lease renewed every 250 ms. */
function quietLeases(
  link: Awaited<ReturnType<typeof connectRedis>>,
  me: string,
  thread?: { url: string; hungMs: number },
): Leases {
  return new Leases(
    link,
    me,
    {
      emit: async () => {},
      counts: () => ['users', '0'],
      evicted: () => {},
      restore: async () => {},
    },
    silentLogger,
    { leaseMs: 1000, renewMs: 250, ...(thread ? { thread } : {}) },
  );
}

async function leaseAfterHold(thread: { hungMs: number } | undefined, holdMs: number) {
  await redis.cli('FLUSHALL');
  const link = await connectRedis({ url: redis.url, log: silentLogger });
  const me = newNodeId();
  const leases = quietLeases(
    link,
    me,
    thread ? { url: redis.url, hungMs: thread.hungMs } : undefined,
  );
  await leases.start();
  await sleep(500);
  holdLoop(holdMs);
  // Sent before this loop's own renewal timer can run again.
  const ttl = Number(await link.command(['PTTL', leaseKey(me)]));
  await leases.stop();
  const gone = Number(await link.command(['EXISTS', leaseKey(me)]));
  await link.close();
  return { ttl, gone };
}

test('the lease thread keeps the lease while the main loop is held up longer than it', async () => {
  // The main loop alone: held for 2.5 leases, the lease lapses.
  expect((await leaseAfterHold(undefined, 2500)).ttl).toBeLessThan(0);
  // With the thread: it does not; and a stop deletes it (the thread does not set it again).
  const kept = await leaseAfterHold({ hungMs: 60_000 }, 2500);
  expect(kept.ttl).toBeGreaterThan(0);
  expect(kept.gone).toBe(0);
});

test('a main loop silent for longer than the hung bound loses its lease all the same', async () => {
  const hung = await leaseAfterHold({ hungMs: 1500 }, 4000);
  expect(hung.ttl).toBeLessThan(0);
});

test('a lease thread slow to start neither stops the renewals nor holds up the start', async () => {
  await redis.cli('FLUSHALL');
  // The thread's Redis: accepts and never answers (the thread's AUTH waits for good), as
  // a thread that takes longer than a lease to come up on a loaded host.
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as AddressInfo).port;
  const link = await connectRedis({ url: redis.url, log: silentLogger });
  const me = newNodeId();
  const leases = quietLeases(link, me, { url: `redis://:pw@127.0.0.1:${port}`, hungMs: 60_000 });
  try {
    let started = false;
    const starting = leases.start().then(() => (started = true));
    let lapsed = 0;
    for (let i = 0; i < 25; i++) {
      await sleep(100);
      if (Number(await link.command(['PTTL', leaseKey(me)])) < 0) lapsed++;
    }
    expect(lapsed).toBe(0);
    await starting;
    expect(started).toBe(true);
  } finally {
    await leases.stop();
    expect(Number(await link.command(['EXISTS', leaseKey(me)]))).toBe(0);
    await link.close();
    for (const s of sockets) s.destroy();
    silent.close();
  }
});
