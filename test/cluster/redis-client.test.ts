/**
 * The Redis link's own command deadline (redis-client.ts Deadlines, in place of
 * node-redis's per-command timers), against a real redis-server: a command Redis does not
 * answer fails within the bound, and the link goes on working once Redis answers again.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { COMMAND_TIMEOUT_MS, connectRedis } from '../../src/cluster/redis-client.js';
import { silentLogger } from '../../src/core/ports.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

test('a command without an answer fails within the deadline', { timeout: 30_000 }, async () => {
  const link = await connectRedis({ url: redis.url, log: silentLogger });
  try {
    expect(await link.command(['SET', 'k', 'v'])).toBe('OK');
    // Redis holds every client's commands (the connections stay up): nothing answers.
    await redis.cli('CLIENT', 'PAUSE', String(COMMAND_TIMEOUT_MS + 3000), 'ALL');
    const t0 = Date.now();
    await expect(link.command(['GET', 'k'])).rejects.toThrow(/no answer within 5000 ms/);
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(COMMAND_TIMEOUT_MS + 2000);
    await redis.cli('CLIENT', 'UNPAUSE');
    expect(await link.command(['GET', 'k'])).toBe('v');
  } finally {
    await link.close();
  }
});
