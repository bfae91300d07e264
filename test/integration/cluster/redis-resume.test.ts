/**
 * Resume in a cluster: two nodes on one real redis-server sharing one store. A name held
 * after a drop on one node is held on the other too (the hold is a Redis key), a token made
 * by one node is accepted by the other (the secret is in the shared store), and the replay
 * there holds exactly what was said on the first node meanwhile. On one redis-server and
 * on a Redis Cluster of three masters.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../../../src/core/ports.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { RawFramedClient, type Msg } from '../../helpers/framed-client.js';
import { LineClient } from '../../helpers/line-client.js';
import { REDIS_BACKENDS, type RedisBackend } from '../../helpers/redis-backends.js';
import { portOf, testConfig } from '../../helpers/server.js';

describe.each(REDIS_BACKENDS)('on $name', (kind) => {
  let redis: RedisBackend;
  const nodes: RunningServer[] = [];
  beforeAll(async () => {
    redis = await kind.start();
  });
  afterAll(async () => {
    for (const s of nodes) await s.close();
    await redis?.dispose();
  });

  test('a name held on one node is held on the other; the token and its replay work there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plugboard-cluster-resume-'));
    for (let i = 0; i < 2; i++) {
      nodes.push(
        await startServer(
          testConfig([
            ...['--bus', redis.url, '--framed-port', '0', '--flood-rate', '0'],
            ...['--store', 'sqlite', '--data-dir', dir, '--name-hold', '30'],
          ]),
          silentLogger,
        ),
      );
    }
    const [a, b] = nodes as [RunningServer, RunningServer];
    const talker = await LineClient.named(portOf(a, 'line'), 'talker');
    const alice = await RawFramedClient.connect(portOf(a, 'framed'));
    alice.send({ type: 'hello', name: 'alice' });
    const { token } = await alice.expect((m) => m.type === 'welcome');
    talker.send('before');
    const seen = (await alice.expect((m) => m.type === 'message' && m.text === 'before'))
      .id as string;
    alice.close();
    await talker.expect(/^\* alice left/);
    for (let i = 0; i < 8; i++) talker.send(`meanwhile ${i}`);
    const witness = await LineClient.named(portOf(a, 'line'), 'witness');
    witness.send('/history 1');
    await witness.expect(/<talker> meanwhile 7$/);
    // The other node's writes reach the shared file within a batch interval (50 ms).
    await new Promise((r) => setTimeout(r, 200));

    // On the other node, from elsewhere and without the token: still held.
    const stranger = await RawFramedClient.connectFrom(portOf(b, 'framed'), '127.0.0.2');
    stranger.send({ type: 'hello', name: 'alice', ref: 1 });
    expect(await stranger.expect((m) => m.type === 'error')).toMatchObject({ code: 'name_in_use' });
    const nc = await LineClient.connectFrom(portOf(b, 'line'), '127.0.0.2');
    await nc.expect(/Choose a name: /);
    nc.send('alice');
    await nc.expect(/^! The name alice is already in use$/);

    // With the token, from that same elsewhere, on the other node: the name and the replay.
    stranger.send({ type: 'hello', name: 'alice', token, since: { '#lobby': seen }, ref: 2 });
    expect(await stranger.expect((m) => m.type === 'welcome')).toMatchObject({
      name: 'alice',
      resumed: true,
    });
    const replay = await stranger.expect((m) => m.type === 'history');
    expect(replay.missed).toBe(8);
    expect((replay.messages as Msg[]).map((e) => e.text)).toEqual(
      Array.from({ length: 8 }, (_, i) => `meanwhile ${i}`),
    );
    for (const c of [talker, witness, nc, stranger]) c.close();
  }, 30_000);
});
