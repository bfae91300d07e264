/**
 * One CLAIM per registration on the Redis bus: a name chosen with registration to follow
 * (the line prompt, JSON hello) is claimed once, as registered, not once when chosen and
 * again when registering. Counted with MONITOR on every master (one redis-server, and a
 * Redis Cluster of three). IRC's NICK then USER still claims twice: tentatively, then as
 * registered.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nameKey } from '../../../src/cluster/redis-keys.js';
import { CLAIM } from '../../../src/cluster/redis-scripts.js';
import { silentLogger } from '../../../src/core/ports.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { RawFramedClient } from '../../helpers/framed-client.js';
import { RawIrcClient } from '../../helpers/irc-client.js';
import { LineClient } from '../../helpers/line-client.js';
import { REDIS_BACKENDS, type RedisBackend } from '../../helpers/redis-backends.js';
import { RedisMonitor } from '../../helpers/redis-monitor.js';
import { portOf, testConfig } from '../../helpers/server.js';

const claimSha = createHash('sha1').update(CLAIM).digest('hex');

describe.each(REDIS_BACKENDS)('on $name', (kind) => {
  let redis: RedisBackend;
  let node: RunningServer;
  beforeAll(async () => {
    redis = await kind.start();
    node = await startServer(
      testConfig(['--bus', redis.url, '--framed-port', '0', '--irc-port', '0']),
      silentLogger,
    );
    // Every master knows CLAIM already, so no claim here is an EVALSHA refused and an EVAL.
    for (const m of redis.masters) await m.cli('SCRIPT', 'LOAD', CLAIM);
  });
  afterAll(async () => {
    await node?.close();
    await redis?.dispose();
  });

  /** CLAIMs of `name` while `register` runs (and a moment after, for late writes). */
  async function claimsDuring(name: string, register: () => Promise<void>): Promise<number> {
    const monitors = await Promise.all(redis.masters.map((m) => RedisMonitor.start(m.port)));
    await register();
    await new Promise((r) => setTimeout(r, 200));
    for (const m of monitors) m.close();
    return monitors.reduce(
      (n, m) =>
        n +
        m.matching('EVALSHA', claimSha, nameKey(name)).length +
        m.matching('EVAL', nameKey(name)).length,
      0,
    );
  }

  test('a line registration claims its name once', async () => {
    let c: LineClient | undefined;
    const claims = await claimsDuring('liney', async () => {
      c = await LineClient.named(portOf(node, 'line'), 'liney');
    });
    expect(claims).toBe(1);
    c?.close();
  });

  test('a JSON hello claims its name once', async () => {
    let c: RawFramedClient | undefined;
    const claims = await claimsDuring('framey', async () => {
      c = await RawFramedClient.hello(portOf(node, 'framed'), 'framey');
    });
    expect(claims).toBe(1);
    c?.close();
  });

  test('IRC: NICK holds the name tentatively, registration claims it as registered', async () => {
    let c: RawIrcClient | undefined;
    const claims = await claimsDuring('irky', async () => {
      c = await RawIrcClient.register(portOf(node, 'irc'), 'irky');
    });
    expect(claims).toBe(2);
    c?.socket.destroy();
  });
});
