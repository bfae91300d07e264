/**
 * The benchmark's throwaway Redis Cluster (bench/servers/redis-cluster.ts) against a real
 * redis-server: three masters that form one cluster, the room's shard named where a
 * client is actually served (no MOVED), INFO summed over the masters, and every master
 * gone after stop().
 */
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStats } from '../../bench/gen/redis-stats.js';
import { REDIS_SERVER } from '../../bench/servers/redis.js';
import {
  startBenchRedisCluster,
  type BenchRedisCluster,
} from '../../bench/servers/redis-cluster.js';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const running: BenchRedisCluster[] = [];
const logs: string[] = [];
afterAll(async () => {
  for (const c of running) await c.stop();
  for (const f of logs) rmSync(f, { force: true });
});

describe.skipIf(!REDIS_SERVER)('bench Redis Cluster', () => {
  it('starts three masters, names the master of the room slot, sums INFO, stops them all', async () => {
    const c = await startBenchRedisCluster(0, (part) => {
      const f = join(tmpdir(), `pb-test-rc-${process.pid}-${part}.log`);
      logs.push(f);
      return f;
    });
    running.push(c);
    expect(c.masters).toHaveLength(3);
    expect(c.url).toBe(`redis+cluster://${c.masters.map((m) => `127.0.0.1:${m.port}`).join(',')}`);
    const key = 'pb:{r:#bench}';
    const { slot, master } = await c.shardOf(key);
    expect(slot).toBeGreaterThanOrEqual(0);
    // Only the named master serves the key; the others answer MOVED.
    for (const [i, m] of c.masters.entries()) {
      const client = createClient({
        url: `redis://127.0.0.1:${m.port}`,
        socket: { reconnectStrategy: false },
      });
      client.on('error', () => {});
      await client.connect();
      const reply = await client.sendCommand(['SET', key, 'x']).then(
        (r) => String(r),
        (e: Error) => e.message,
      );
      await client.close();
      if (i === master) expect(reply).toBe('OK');
      else expect(reply).toMatch(/^MOVED /);
    }
    const each = await Promise.all(
      c.masters.map(async (m) => {
        const s = await RedisStats.connect(m.port);
        const r = await s.read();
        await s.close();
        return r;
      }),
    );
    const all = await RedisStats.connect(c.masters.map((m) => m.port));
    const sum = await all.read();
    await all.close();
    expect(sum.masters).toHaveLength(3);
    // Counters only grow: the sum read after the single reads is at least their sum.
    expect(sum.cpuUs).toBeGreaterThanOrEqual(each.reduce((a, r) => a + r.cpuUs, 0));
    // The one SET that ran (the MOVED ones are rejected, not calls), on the room's master.
    expect(sum.calls.get('set')).toBe(1);
    expect(sum.masters?.[master]?.calls.get('set')).toBe(1);
    await c.stop();
    running.length = 0;
    expect(c.alive()).toBe(false);
  }, 40_000);
});
