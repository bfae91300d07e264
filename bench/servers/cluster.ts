/**
 * Plugboard scaled out: a throwaway redis-server and `nodes` Plugboard processes, each
 * `serve --bus redis://…` with only the line listener, so one chat spans them all. The
 * generator spreads its clients over the nodes' ports (client i on node i mod nodes).
 *
 * Every node is pinned to the server core, and so is Redis unless `redisCore` says
 * otherwise: the cluster gets the same one core a single node gets, so CPU per delivery
 * compares like with like (see the Cluster section of docs/benchmarks.md).
 *
 * The bus can instead be a 3-master Redis Cluster (`--bus redis+cluster://…`,
 * redis-cluster.ts): the same nodes and room, the masters pinned where the one Redis was;
 * the generator then reads every master and reports where the room's slot lives.
 */
import { join } from 'node:path';
import { roomKeys } from '../../src/cluster/redis-keys.js';
import { ROOM } from '../gen/phases.js';
import type { BusRedis } from '../gen/types.js';
import { plugboardCli, startPlugboard } from './plugboard.js';
import { startBenchRedis } from './redis.js';
import { CLUSTER_MASTERS, startBenchRedisCluster } from './redis-cluster.js';
import type { RunningServer, ServerTarget, StartOptions } from './spawn.js';

/** What the nodes' bus runs on: one redis-server, or a 3-master Redis Cluster. */
export type BusKind = 'redis' | 'redis-cluster';

interface StartedBus {
  url: string;
  redis: BusRedis;
  alive(): boolean;
  stop(): Promise<void>;
}

async function startBus(kind: BusKind, o: StartOptions): Promise<StartedBus> {
  const core = o.redisCore ?? o.core;
  if (kind === 'redis') {
    const r = await startBenchRedis(core, logOf(o.logFile, 'redis'));
    return {
      url: r.url,
      redis: { pid: r.pid, port: r.port, core: r.core },
      alive: () => r.alive(),
      stop: () => r.stop(),
    };
  }
  const c = await startBenchRedisCluster(core, (part) => logOf(o.logFile, `redis-${part}`));
  try {
    // Every key of the room carries its hash tag, so the channel's slot is the room's.
    const key = roomKeys(ROOM).channel;
    const shard = { key, ...(await c.shardOf(key)) };
    const first = c.masters[0] as (typeof c.masters)[number];
    return {
      url: c.url,
      redis: {
        pid: first.pid,
        port: first.port,
        core,
        masters: c.masters.map((m) => ({ pid: m.pid, port: m.port })),
        shard,
      },
      alive: () => c.alive(),
      stop: () => c.stop(),
    };
  } catch (e) {
    await c.stop();
    throw e;
  }
}

export interface Cluster extends RunningServer {
  nodes: NonNullable<RunningServer['nodes']>;
  redis: NonNullable<RunningServer['redis']>;
}

/** The log file of node `i` (or of Redis) beside the run's own log file. */
function logOf(logFile: string, part: string): string {
  return logFile.replace(/(\.log)?$/, `.${part}.log`);
}

/**
 * Starts Redis and then the nodes one after another (each node leases its node number
 * and snapshots the default room as it starts; sequential starts keep that simple).
 * Anything started is stopped again if a later part fails.
 */
export async function startCluster(
  nodes: number,
  o: StartOptions,
  extraArgs: string[] = [],
  bus: BusKind = 'redis',
): Promise<Cluster> {
  const redis = await startBus(bus, o);
  const started: RunningServer[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map((s) => s.stop()));
    await redis.stop();
  };
  try {
    for (let i = 0; i < nodes; i++) {
      started.push(
        await startPlugboard(
          'line',
          {
            core: o.core,
            logFile: logOf(o.logFile, `node${i}`),
            ...(o.profileDir ? { profileDir: join(o.profileDir, `node${i}`) } : {}),
          },
          ['--bus', redis.url, ...extraArgs],
        ),
      );
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  const first = started[0] as RunningServer;
  return {
    pid: first.pid,
    host: first.host,
    port: first.port,
    logFile: o.logFile,
    alive: () => redis.alive() && started.every((s) => s.alive()),
    stop: stopAll,
    nodes: started.map((s) => ({ pid: s.pid, host: s.host, port: s.port })),
    redis: redis.redis,
  };
}

export function clusterTarget(nodes: number, version: string): ServerTarget {
  return {
    id: `plugboard-cluster${nodes}`,
    label: `Plugboard cluster (line, ${nodes} nodes + Redis)`,
    protocol: 'line',
    rooms: true,
    maxClients: 0, // filled in from the open-file limit (the generator's) by the caller
    maxClientsWhy: "open-file limit (the generator's)",
    version,
    requires: plugboardCli,
    // Load runs only: registration speed and capacity of a cluster are the scale run's.
    kinds: ['load'],
    optIn: true,
    cluster: true,
    start: (o: StartOptions) => startCluster(nodes, o),
  };
}

/**
 * The same nodes with the bus on a throwaway 3-master Redis Cluster
 * (`--bus redis+cluster://…`): id `plugboard-cluster<nodes>-rc`.
 */
export function redisClusterTarget(nodes: number, version: string): ServerTarget {
  return {
    ...clusterTarget(nodes, version),
    id: `plugboard-cluster${nodes}-rc`,
    label: `Plugboard cluster (line, ${nodes} nodes + ${CLUSTER_MASTERS}-master Redis Cluster)`,
    start: (o: StartOptions) => startCluster(nodes, o, [], 'redis-cluster'),
  };
}

/**
 * `plugboard serve --workers W --bus redis://…` on a throwaway Redis, for the scale run
 * (bench/scale.ts starts its own, sized to the run; this start is the probe's).
 */
export function workersTarget(version: string): ServerTarget {
  return {
    id: 'plugboard-workers',
    label: 'Plugboard --workers (line, one Redis)',
    protocol: 'line',
    rooms: true,
    maxClients: Infinity,
    maxClientsWhy: 'open-file limit per process, times the processes',
    version,
    kinds: ['scale'],
    optIn: true,
    requires: plugboardCli,
    start: async (o: StartOptions) => {
      const redis = await startBenchRedis(o.redisCore ?? o.core, logOf(o.logFile, 'redis'));
      try {
        const s = await startPlugboard('line', o, ['--bus', redis.url, '--workers', '2']);
        return {
          ...s,
          alive: () => s.alive() && redis.alive(),
          stop: async () => {
            await s.stop();
            await redis.stop();
          },
        };
      } catch (e) {
        await redis.stop();
        throw e;
      }
    },
  };
}
