import { afterAll, beforeAll } from 'vitest';
import { PostgresStore } from '../../src/store/postgres.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { storeContract } from './contract.js';

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => pg?.stop());

storeContract('postgres', async () => {
  const s = new PostgresStore(pg.url);
  await s.init();
  return s;
});
