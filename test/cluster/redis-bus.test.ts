/** The bus contract against the Redis bus, on a real redis-server of the test's own. */
import { afterAll, beforeAll } from 'vitest';
import { RedisBus } from '../../src/cluster/redis-bus.js';
import { silentLogger } from '../../src/core/ports.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { busContract } from './contract.js';

let redis: TestRedis;
const made: RedisBus[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

busContract({
  name: 'RedisBus',
  maxNodes: 8,
  sequenced: true,
  make: async (n) => {
    await redis.cli('FLUSHALL');
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
