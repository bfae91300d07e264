/**
 * Plugboard scaled out: a throwaway redis-server and `nodes` Plugboard processes, each
 * `serve --bus redis://…` with only the line listener, so one chat spans them all. The
 * generator spreads its clients over the nodes' ports (client i on node i mod nodes).
 *
 * Every node is pinned to the server core, and so is Redis unless `redisCore` says
 * otherwise: the cluster gets the same one core a single node gets, so CPU per delivery
 * compares like with like (see the Cluster section of docs/benchmarks.md).
 */
import { join } from 'node:path';
import { plugboardCli, startPlugboard } from './plugboard.js';
import { startBenchRedis, type BenchRedis } from './redis.js';
import type { RunningServer, ServerTarget, StartOptions } from './spawn.js';

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
): Promise<Cluster> {
  const redis: BenchRedis = await startBenchRedis(o.redisCore ?? o.core, logOf(o.logFile, 'redis'));
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
    redis: { pid: redis.pid, port: redis.port, core: redis.core },
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
