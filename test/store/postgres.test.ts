import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
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

test('postgres: a database that stops taking connections; writes wait and land once it opens again', async () => {
  const url = new URL(cluster.url);
  const database = url.pathname.slice(1);
  const other = new URL(cluster.url);
  other.pathname = database === 'template1' ? '/postgres' : '/template1';
  const operator = async (sql: string) => {
    const client = new pg.Client({ connectionString: other.toString() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const store = new PostgresStore(cluster.url);
  await store.init();
  const room = `#gone${Date.now()}`;
  const base = Date.now() * 1000;
  const entries = Array.from({ length: 10 }, (_, i) => ({
    id: String(base + i),
    ts: Date.now(),
    room,
    from: 'a',
    mask: 'a!a@h',
    text: `m${i}`,
    kind: 'say' as const,
  }));
  // As a failover or an operator would: no new connections, and the open ones cut.
  let committed = 0;
  let promises: Promise<unknown>[] = [];
  await operator(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
  try {
    await operator(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${database}'`,
    );
    promises = entries.map((e) => store.appendMessage(e).then(() => committed++));
    const deadline = Date.now() + 5000;
    while (store.healthy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(store.healthy()).toBe(false);
    expect(store.writable()).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect(committed).toBe(0);
    expect(store.stats().failed).toBeGreaterThanOrEqual(2);
  } finally {
    await operator(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
  }
  await Promise.all(promises); // the retries got through
  expect(committed).toBe(10);
  await Promise.all(
    entries.map((e) => store.appendMessage({ ...e, id: String(BigInt(e.id) + 100n) })),
  );
  expect(store.healthy()).toBe(true);
  const kept = await store.history({ room, limit: 100 });
  expect(kept.map((e) => e.text)).toEqual([...entries, ...entries].map((e) => e.text));
  await store.close();
}, 20_000);
