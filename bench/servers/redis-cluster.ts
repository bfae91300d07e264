/**
 * A throwaway 3-master Redis Cluster for the cluster benchmarks: three of redis.ts's
 * redis-servers, each `--cluster-enabled yes` with its own directory (so its own
 * nodes.conf) and a free cluster-bus port (the default, port + 10,000, may be taken),
 * the 16,384 slots split between them by `redis-cli --cluster create` with no replicas
 * (a benchmark measures the bus, not failover), ready once every master reports
 * `cluster_state:ok` and knows the others. All pinned to one core like the single Redis,
 * so the cluster gets no more CPU than the single-Redis cluster.
 *
 * test/helpers/redis-cluster.ts starts the same shape for the tests; this one lives with
 * the other bench servers (pinned, logged beside the run, stopped after it).
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { startBenchRedis, type BenchRedis } from './redis.js';
import { freePort } from './spawn.js';

export const CLUSTER_MASTERS = 3;
const READY_TIMEOUT_MS = 20_000;

export interface BenchRedisCluster {
  masters: BenchRedis[];
  /** `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`, the bus URL. */
  url: string;
  alive(): boolean;
  /** The slot of `key` and the index in `masters` of the master serving it. */
  shardOf(key: string): Promise<{ slot: number; master: number }>;
  stop(): Promise<void>;
}

function redisCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** One command on a fresh connection to one master (not a cluster client: no redirects). */
async function command(port: number, args: string[]): Promise<string> {
  const client = createClient({
    url: `redis://127.0.0.1:${port}`,
    disableOfflineQueue: true,
    socket: { connectTimeout: 5000, reconnectStrategy: false },
  });
  client.on('error', () => {
    // The command's own rejection reports it.
  });
  await client.connect();
  try {
    return String(await client.sendCommand(args));
  } finally {
    await client.close().catch(() => {});
  }
}

/**
 * The master port serving each slot range, from CLUSTER NODES: one line per node,
 * `<id> <ip:port@busport> <flags> <master> <ping> <pong> <epoch> <link> <slots…>`, slots
 * as `from-to` or one number (`[…]` a slot being migrated, none here).
 */
export function parseSlotRanges(nodes: string): Array<[number, number, number]> {
  const ranges: Array<[number, number, number]> = [];
  for (const line of nodes.split('\n')) {
    const f = line.trim().split(' ');
    if (f.length < 9 || !(f[2] ?? '').includes('master')) continue;
    const port = Number((f[1] ?? '').split('@')[0]?.split(':')[1]);
    for (const r of f.slice(8)) {
      if (r.startsWith('[')) continue;
      const [from, to] = r.split('-');
      ranges.push([Number(from), Number(to ?? from), port]);
    }
  }
  return ranges;
}

/** Starts the masters (logs `<logFile>.m0.log`, …), joins them into a cluster, waits for ok. */
export async function startBenchRedisCluster(
  core: number | string,
  logFile: (part: string) => string,
  count = CLUSTER_MASTERS,
): Promise<BenchRedisCluster> {
  const masters: BenchRedis[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(masters.map((m) => m.stop()));
  };
  try {
    for (let i = 0; i < count; i++) {
      const busPort = await freePort('127.0.0.1');
      masters.push(
        await startBenchRedis(core, logFile(`m${i}`), [
          ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
          ...['--cluster-port', String(busPort), '--cluster-node-timeout', '5000'],
        ]),
      );
    }
    await redisCli([
      '--cluster',
      'create',
      ...masters.map((m) => `127.0.0.1:${m.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const infos = await Promise.all(masters.map((m) => command(m.port, ['CLUSTER', 'INFO'])));
      const ok = infos.every(
        (i) => i.includes('cluster_state:ok') && i.includes(`cluster_known_nodes:${count}`),
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`Redis Cluster not ready:\n${infos.join('\n')}`);
      await sleep(100);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const first = masters[0] as BenchRedis;
  const ranges = parseSlotRanges(await command(first.port, ['CLUSTER', 'NODES']));
  return {
    masters,
    url: `redis+cluster://${masters.map((m) => `127.0.0.1:${m.port}`).join(',')}`,
    alive: () => masters.every((m) => m.alive()),
    async shardOf(key) {
      const slot = Number(await command(first.port, ['CLUSTER', 'KEYSLOT', key]));
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      const master = range ? masters.findIndex((m) => m.port === range[2]) : -1;
      if (master < 0) throw new Error(`no master serves slot ${slot}`);
      return { slot, master };
    },
    stop,
  };
}
