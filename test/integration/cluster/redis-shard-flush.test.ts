/**
 * A Redis Cluster whose one master loses its data (FLUSHALL on that master only: as a
 * restart without persistence and no replica), while the shard with `pb:cluster` keeps
 * it. The master chosen holds the node list (`pb:nodes`) and alice's name: each shard has
 * a marker of its own, so the nodes notice and put their part back (names, node list,
 * members) instead of taking their absence from the node list for being declared dead;
 * a room on that shard gets a new epoch, and its members are told some history is gone.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CLUSTER, nameKey, NODES, roomKeys } from '../../../src/cluster/redis-keys.js';
import { silentLogger } from '../../../src/core/ports.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { LineClient } from '../../helpers/line-client.js';
import { startRedisCluster, type TestRedisCluster } from '../../helpers/redis-cluster.js';
import { portOf, testConfig } from '../../helpers/server.js';

let cluster: TestRedisCluster;
const servers: RunningServer[] = [];
beforeAll(async () => {
  cluster = await startRedisCluster(3);
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await cluster?.dispose();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('one master flushed: the nodes restore their part there, and nobody is evicted', async () => {
  const flushed = await cluster.masterOf(NODES);
  // The premise: the node list and alice's name are on the flushed shard, the old single
  // marker is not.
  expect(await cluster.masterOf(CLUSTER)).not.toBe(flushed);
  expect(await cluster.masterOf(nameKey('alice'))).toBe(flushed);
  let room = '';
  for (let i = 0; room === ''; i++) {
    if ((await cluster.masterOf(roomKeys(`#f${i}`).channel)) === flushed) room = `#f${i}`;
  }
  const start = async () => {
    const s = await startServer(
      testConfig(['--bus', cluster.url, '--node-lease', '3', '--flood-rate', '0']),
      silentLogger,
    );
    servers.push(s);
    return s;
  };
  const [a, b] = [await start(), await start()];
  const alice = await LineClient.named(portOf(a, 'line'), 'alice');
  const bob = await LineClient.named(portOf(b, 'line'), 'bob');
  alice.send(`/join ${room}`);
  await alice.expect(new RegExp(`You joined ${room}`));
  bob.send(`/join ${room}`);
  await bob.expect(new RegExp(`You joined ${room}`));
  await alice.expect(new RegExp(`^\\* bob joined ${room}$`));
  // A renewal round or two, so every node has seen every shard's marker.
  await sleep(2500);

  const m = cluster.masters[flushed]!;
  await m.cli('FLUSHALL');
  // Several renewal rounds (1 s each with a 3 s lease) and a sweep.
  await sleep(5000);
  expect(alice.lines.concat(bob.lines).some((l) => l.includes('lost contact'))).toBe(false);
  expect((await m.cli('SMEMBERS', NODES)).split('\n').filter((x) => x !== '').length).toBe(2);
  expect(await m.cli('EXISTS', nameKey('alice'))).toBe('1');
  // The room's shared state is back (members), and the room goes on in a new epoch.
  expect(await m.cli('HEXISTS', roomKeys(room).members, 'alice')).toBe('1');
  bob.send('still here');
  await alice.expect(/Some history of #f\d+ is no longer available/);
  await alice.expect(/still here/);
  // The name is still alice's: a third person cannot take it.
  const carol = await LineClient.connect(portOf(b, 'line'));
  carol.send('alice');
  await carol.expect(/taken|in use/i);
  for (const c of [alice, bob, carol]) c.close();
}, 60_000);
