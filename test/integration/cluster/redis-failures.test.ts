/**
 * Cluster failures with real processes: a node killed with SIGKILL has its users removed
 * by the survivors within the lease bound (--node-lease, default 10 s: at most 10 s plus
 * one renewal round, documented as 15 s; 3 s here to keep the test short), their names
 * freed; and a second host's own SQLite history is refused at start.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { silentLogger } from '../../../src/core/ports.js';
import { startServer } from '../../../src/server.js';
import { LineClient } from '../../helpers/line-client.js';
import { spawnServer } from '../../helpers/process.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { OTHER_LISTENERS_OFF, portOf, testConfig } from '../../helpers/server.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

test(
  'a node killed with SIGKILL: its users leave for everyone within the lease bound',
  { timeout: 90_000 },
  async () => {
    await redis.cli('FLUSHALL');
    const survivor = await startServer(
      testConfig(['--bus', redis.url, '--node-lease', '6', '--flood-rate', '0']),
      silentLogger,
    );
    const doomed = await spawnServer([
      '--bus',
      redis.url,
      '--node-lease',
      '6',
      '--store',
      'memory',
      '--line-port',
      '0',
      ...OTHER_LISTENERS_OFF,
    ]);
    const watcher = await LineClient.named(portOf(survivor, 'line'), 'watcher');
    const goner = await LineClient.named(doomed.ports.line!.port, 'goner');
    await watcher.expect(/^\* goner joined #lobby$/);
    // The doomed node writes its user record a moment after the join it sequenced; a
    // node killed inside that moment leaves a member no lease cleanup knows of (a known
    // gap, noted on issue 13). Kill it once the record is there.
    for (let i = 0; i < 200; i++) {
      // Two nodes with users: the survivor's (watcher) and the doomed one's (goner).
      const keys = await redis.cli('KEYS', 'pb:node:*:users');
      if (keys.split('\n').filter((k) => k.trim() !== '').length >= 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    // 6 s lease + a 2 s renewal round; the wait is long only so a loaded machine passes.
    // (A shorter lease let a starved survivor miss its own renewals and be cleaned up by
    // the doomed node before the kill.)
    await watcher.expect(/^\* goner left \(server lost\)$/, 45_000);
    // The name is free again: someone else can take it.
    const again = await LineClient.named(portOf(survivor, 'line'), 'goner');
    again.close();
    goner.close();
    watcher.close();
    await survivor.close();
  },
);

test('several hosts with their own SQLite are refused: history must be shared', async () => {
  await redis.cli('FLUSHALL');
  // Another host's node said where this chat's history is.
  await redis.cli('SET', 'pb:store', 'sqlite:elsewhere:/srv/plugboard/data', 'PX', '60000');
  const config = testConfig(['--bus', redis.url, '--store', 'sqlite']);
  await expect(startServer(config, silentLogger)).rejects.toThrow(
    /keep history in sqlite:elsewhere.*use --store postgres:\/\//,
  );
});
