import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { MessageIds } from '../../src/core/ids.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { storeContract } from './contract.js';
import { searchContract } from './search-contract.js';

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
  { shared: true },
);

searchContract('postgres', async () => {
  const s = new PostgresStore(cluster.url);
  await s.init();
  return s;
});

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

test('postgres: a database from before search gets its text search column and index, history included', async () => {
  const dbName = `plugboard_old_${Date.now()}`;
  await admin(`CREATE DATABASE ${dbName}`);
  const url = new URL(cluster.url);
  url.pathname = `/${dbName}`;
  const old = new pg.Client({ connectionString: url.toString() });
  await old.connect();
  // Schema version 1 as released, with history in it.
  await old.query(`CREATE TABLE schema_version (version INTEGER NOT NULL);
    INSERT INTO schema_version VALUES (1);
    CREATE TABLE messages (id BIGINT PRIMARY KEY, room_key TEXT NOT NULL, room TEXT NOT NULL,
      sender TEXT NOT NULL, mask TEXT NOT NULL, text TEXT NOT NULL, kind TEXT NOT NULL, ts BIGINT NOT NULL);
    CREATE INDEX messages_room ON messages (room_key, id);
    CREATE INDEX messages_ts ON messages (ts);
    CREATE TABLE accounts (name_key TEXT PRIMARY KEY, name TEXT NOT NULL, password_hash TEXT NOT NULL,
      created_at BIGINT NOT NULL, last_seen BIGINT NOT NULL);
    CREATE TABLE rooms (name_key TEXT PRIMARY KEY, name TEXT NOT NULL, topic TEXT NOT NULL,
      topic_by TEXT NOT NULL, topic_at BIGINT NOT NULL, modes TEXT NOT NULL, room_key TEXT,
      room_limit INTEGER NOT NULL, owner TEXT);
    CREATE TABLE bans (room_key TEXT NOT NULL, room TEXT NOT NULL, mask_key TEXT NOT NULL,
      mask TEXT NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL, set_by TEXT NOT NULL,
      created_at BIGINT NOT NULL, expires_at BIGINT, PRIMARY KEY (room_key, mask_key, kind));
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
  const ids = new MessageIds(3);
  const ts = Date.now();
  const oldIds: string[] = [];
  for (const text of ['an archived remark', 'another archived line', 'nothing to see']) {
    const id = ids.next(ts);
    oldIds.push(id);
    await old.query(
      "INSERT INTO messages VALUES ($1, '#old', '#old', 'a', 'a!a@h', $2, 'say', $3)",
      [id, text, ts],
    );
  }
  await old.end();
  const store = new PostgresStore(url.toString());
  try {
    await store.init();
    const q = { terms: ['archived'], rooms: ['#old'], account: null, limit: 10, scan: 100 };
    expect((await store.search(q)).entries.map((e) => e.id)).toEqual([oldIds[1], oldIds[0]]);
    await store.appendMessage({
      id: ids.next(ts),
      ts,
      room: '#old',
      from: 'b',
      mask: 'b!b@h',
      text: 'archived anew',
      kind: 'say',
    });
    expect((await store.search(q)).entries.map((e) => e.text)).toEqual([
      'archived anew',
      'another archived line',
      'an archived remark',
    ]);
    // The read markers' table came with the migrations too.
    store.saveReadMarker('b', { target: '#old', id: oldIds[0] as string });
    expect(await store.readMarkers('b')).toEqual([{ target: '#old', id: oldIds[0] }]);
    // And the kept events' table (event playback): old messages are not events.
    expect(await store.events({ room: '#old', limit: 10 })).toEqual([]);
    const topic = { kind: 'topic' as const, topic: 'kept' };
    store.appendEvent({
      id: ids.next(ts),
      ts,
      room: '#old',
      from: 'b',
      mask: 'b!b@h',
      detail: topic,
    });
    expect((await store.events({ room: '#old', limit: 10 })).map((e) => e.detail)).toEqual([topic]);
    // And the renames' table (core/rename.ts), empty: the old setting is read by the core.
    expect(await store.renames(10)).toEqual([]);
    const moved = { from: '#old', to: '#older', at: ts, by: 'b', reason: '' };
    store.saveRename(moved, 200);
    expect(await store.renamedFrom('#old')).toEqual(moved);
  } finally {
    await store.close();
  }
  const check = new pg.Client({ connectionString: url.toString() });
  await check.connect();
  const version = await check.query('SELECT version FROM schema_version');
  const index = await check.query(
    "SELECT indexdef FROM pg_indexes WHERE indexname = 'messages_text_search'",
  );
  await check.end();
  expect(version.rows).toEqual([{ version: 6 }]);
  expect(String(index.rows[0]?.indexdef)).toContain('USING gin (text_search)');
  await admin(`DROP DATABASE ${dbName}`);
}, 30_000);
