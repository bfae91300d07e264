import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { PostgresStore } from '../../src/store/postgres.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { storeContract } from './contract.js';

let cluster: TestPostgres;
beforeAll(async () => {
  cluster = await startPostgres();
}, 60_000);
afterAll(() => cluster?.stop());

/** Runs one statement on its own connection (as an operator would, beside the server). */
async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

storeContract(
  'postgres',
  async (log) => {
    const s = new PostgresStore(cluster.url, log ? { log } : {});
    await s.init();
    return s;
  },
  {
    reason: 'the database is read-only',
    // A real refusal by the server: a trigger that fails every insert into messages with
    // read_only_sql_transaction (SQLSTATE 25006), as a read-only replica would.
    break: () =>
      admin(`
        CREATE OR REPLACE FUNCTION plugboard_refuse() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN RAISE EXCEPTION 'messages are read-only for this test' USING ERRCODE = '25006'; END $$;
        CREATE TRIGGER plugboard_refuse BEFORE INSERT ON messages
          FOR EACH STATEMENT EXECUTE FUNCTION plugboard_refuse();`),
    mend: () => admin('DROP TRIGGER plugboard_refuse ON messages'),
  },
);
