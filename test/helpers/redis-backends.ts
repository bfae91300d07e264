/**
 * The two Redis deployments the cluster tests run against: one redis-server, and a Redis
 * Cluster of three masters. A test file runs its tests once per backend
 * (`describe.each(REDIS_BACKENDS)`); what only one has (stopping the one Redis, a key's
 * shard) is there as `redis` or `cluster`.
 */
import { afterAll, beforeAll } from 'vitest';
import { silentLogger } from '../../src/core/ports.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { startRedisCluster, type TestRedisCluster } from './redis-cluster.js';
import { startRedis, type TestRedis } from './redis.js';
import { testConfig } from './server.js';

export interface RedisBackend {
  /** What `--bus` is given. */
  readonly url: string;
  /** Empties every master. */
  flush(): Promise<void>;
  /** KEYS on every master, together. */
  keys(pattern: string): Promise<string[]>;
  /** Every master: the one redis-server, or the cluster's masters. */
  readonly masters: readonly TestRedis[];
  /** The one redis-server (single backend only). */
  readonly redis?: TestRedis;
  /** The cluster (cluster backend only). */
  readonly cluster?: TestRedisCluster;
  dispose(): Promise<void>;
}

export interface RedisBackendKind {
  name: string;
  cluster: boolean;
  start(): Promise<RedisBackend>;
}

async function single(): Promise<RedisBackend> {
  const redis = await startRedis();
  return {
    url: redis.url,
    redis,
    masters: [redis],
    flush: async () => {
      await redis.cli('FLUSHALL');
    },
    keys: async (pattern) =>
      (await redis.cli('KEYS', pattern)).split('\n').filter((k) => k.trim() !== ''),
    dispose: () => redis.dispose(),
  };
}

async function cluster(): Promise<RedisBackend> {
  const c = await startRedisCluster(3);
  return {
    url: c.url,
    cluster: c,
    masters: c.masters,
    flush: () => c.flushAll(),
    keys: (pattern) => c.keys(pattern),
    dispose: () => c.dispose(),
  };
}

export const REDIS_BACKENDS: readonly RedisBackendKind[] = [
  { name: 'one redis-server', cluster: false, start: single },
  { name: 'a Redis Cluster of 3 masters', cluster: true, start: cluster },
];

/**
 * For the tests of one `describe`: a backend of `kind` and `count` servers in this process
 * on it (`--bus` its URL, then `args`), started before them and stopped after.
 */
export function nodesOn(
  kind: RedisBackendKind,
  count: number,
  args: readonly string[],
): { backend: () => RedisBackend; servers: RunningServer[] } {
  let backend: RedisBackend | undefined;
  const servers: RunningServer[] = [];
  beforeAll(async () => {
    backend = await kind.start();
    for (let i = 0; i < count; i++) {
      servers.push(await startServer(testConfig(['--bus', backend.url, ...args]), silentLogger));
    }
  }, 60_000);
  afterAll(async () => {
    for (const s of servers.splice(0)) await s.close();
    await backend?.dispose();
  });
  return {
    backend: () => {
      if (!backend) throw new Error('the backend is not started yet');
      return backend;
    },
    servers,
  };
}
