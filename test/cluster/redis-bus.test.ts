/**
 * The bus contract against the Redis bus, on a real redis-server of the test's own and on a
 * Redis Cluster of three masters.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { RedisBus } from '../../src/cluster/redis-bus.js';
import { silentLogger } from '../../src/core/ports.js';
import { REDIS_BACKENDS, type RedisBackend } from '../helpers/redis-backends.js';
import { busContract } from './contract.js';

describe.each(REDIS_BACKENDS)('on $name', (kind) => {
  let redis: RedisBackend;
  const made: RedisBus[] = [];
  beforeAll(async () => {
    redis = await kind.start();
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  busContract({
    name: 'RedisBus',
    maxNodes: 8,
    sequenced: true,
    make: async (n) => {
      await redis.flush();
      const buses: RedisBus[] = [];
      for (let i = 0; i < n; i++) {
        buses.push(
          await RedisBus.connect({ url: redis.url, log: silentLogger, defaultRoom: '#lobby' }),
        );
      }
      made.push(...buses);
      return buses;
    },
    cleanup: async () => {
      for (const b of made.splice(0)) await b.close();
    },
  });
});
