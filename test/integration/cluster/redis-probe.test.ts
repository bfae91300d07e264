/**
 * The subscription probe (every 2.5 s a node publishes to its own channel and expects it
 * back) against a real redis-server, with the node in this process: a node whose own
 * event loop is blocked for longer than the probe's period (a CPU-starved worker) does not
 * take that for an outage; a subscription that really stops answering still is one.
 */
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { PROBE_MS } from '../../../src/cluster/redis-bus.js';
import { silentLogger } from '../../../src/core/ports.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { LineClient } from '../../helpers/line-client.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { portOf, testConfig } from '../../helpers/server.js';

let redis: TestRedis;
let node: RunningServer | null = null;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await node?.close();
  await redis?.dispose();
});
beforeEach(async () => {
  await node?.close();
  await redis.cli('FLUSHALL');
  node = await startServer(testConfig(['--bus', redis.url, '--flood-rate', '0']), silentLogger);
});

/** Keeps this process's event loop busy for `ms` (nothing else of it runs meanwhile). */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    /* starved */
  }
}

const turn = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test(
  'an event loop blocked for longer than the probe period is not an outage',
  { timeout: 90_000 },
  async () => {
    const server = node!;
    const watcher = await LineClient.named(portOf(server, 'line'), 'watcher');
    // Blocks longer than the period, back to back with one turn of the loop between: a
    // probe sent in that turn has its answer arrive while the next block runs, so it is
    // still unread when the next round comes due.
    for (let i = 0; i < 3; i++) {
      busy(PROBE_MS + 500);
      await turn();
    }
    // Rounds after the starvation judge the probes sent meanwhile.
    await sleep(2 * PROBE_MS + 1000);
    expect(server.hub.counters.busOutages).toBe(0);
    expect(server.hub.bus.healthy()).toBe(true);
    expect(watcher.lines.some((l) => l.includes('degraded'))).toBe(false);
    watcher.close();
  },
);

test(
  'a subscription that stops answering is still found within three probe periods',
  { timeout: 60_000 },
  async () => {
    const server = node!;
    let downAt = 0;
    // Writes (the probe's PUBLISH) wait while Redis is paused; the connections stay up, so
    // only the probe can tell.
    const pausedAt = Date.now();
    await redis.cli('CLIENT', 'PAUSE', String(6 * PROBE_MS), 'WRITE');
    while (downAt === 0 && Date.now() - pausedAt < 5 * PROBE_MS) {
      await sleep(100);
      if (server.hub.counters.busOutages > 0) downAt = Date.now();
    }
    expect(downAt).toBeGreaterThan(0);
    // Two rounds in a row without the probe back, after the first probe the pause held.
    expect(downAt - pausedAt).toBeLessThanOrEqual(3 * PROBE_MS + 1000);
    await redis.cli('CLIENT', 'UNPAUSE');
    // Found again once a probe comes back.
    const back = Date.now();
    while (!server.hub.bus.healthy() && Date.now() - back < 4 * PROBE_MS) await sleep(100);
    expect(server.hub.bus.healthy()).toBe(true);
  },
);
