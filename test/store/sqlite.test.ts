import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { MessageIds } from '../../src/core/ids.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { storeContract } from './contract.js';
import { searchContract } from './search-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'plugboard-sqlite-'));
storeContract(
  'sqlite',
  async (log) => {
    // The same file every time: the contract also checks that data survives reopening.
    const s = new SqliteStore(join(dir, 'plugboard.db'), log ? { log } : {});
    await s.init();
    return s;
  },
  {
    reason: 'the disk is full',
    // A real SQLITE_FULL: the database may not grow past the pages it has.
    break: async (store) => void (store as SqliteStore).setMaxPages(1),
    mend: async (store) => void (store as SqliteStore).setMaxPages(1 << 30),
  },
  { shared: true },
);

searchContract('sqlite', async () => {
  const s = new SqliteStore(join(dir, 'plugboard.db'));
  await s.init();
  return s;
});

test('sqlite: history gives back 19-digit message ids exactly (they are past 2^53)', async () => {
  const store = new SqliteStore(join(dir, 'ids.db'));
  await store.init();
  const ids = new MessageIds(7);
  const ts = Date.now();
  const written = Array.from({ length: 3 }, (_, i) => ({
    id: ids.next(ts),
    ts,
    room: '#ids',
    from: 'a',
    mask: 'a!a@h',
    text: `m${i}`,
    kind: 'say' as const,
  }));
  for (const e of written) await store.appendMessage(e);
  expect(await store.history({ room: '#ids', limit: 10 })).toEqual(written);
  const page = await store.history({ room: '#ids', limit: 10, before: written[2]!.id });
  expect(page.map((e) => e.id)).toEqual([written[0]!.id, written[1]!.id]);
  await store.close();
});

test('sqlite: a database from before search is indexed when opened; later writes and deletes keep the index in step; read markers work', async () => {
  const file = join(dir, 'before-search.db');
  // Schema version 1 as released, with history in it.
  const old = new Database(file);
  old.exec(`CREATE TABLE messages (
     id INTEGER PRIMARY KEY, room_key TEXT NOT NULL, room TEXT NOT NULL, sender TEXT NOT NULL,
     mask TEXT NOT NULL, text TEXT NOT NULL, kind TEXT NOT NULL, ts INTEGER NOT NULL);
   CREATE INDEX messages_room ON messages (room_key, id);
   CREATE INDEX messages_ts ON messages (ts);
   CREATE TABLE accounts (name_key TEXT PRIMARY KEY, name TEXT NOT NULL, password_hash TEXT NOT NULL,
     created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL);
   CREATE TABLE rooms (name_key TEXT PRIMARY KEY, name TEXT NOT NULL, topic TEXT NOT NULL,
     topic_by TEXT NOT NULL, topic_at INTEGER NOT NULL, modes TEXT NOT NULL, room_key TEXT,
     room_limit INTEGER NOT NULL, owner TEXT);
   CREATE TABLE bans (room_key TEXT NOT NULL, room TEXT NOT NULL, mask_key TEXT NOT NULL,
     mask TEXT NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL, set_by TEXT NOT NULL,
     created_at INTEGER NOT NULL, expires_at INTEGER, PRIMARY KEY (room_key, mask_key, kind));
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   PRAGMA user_version = 1;`);
  const ids = new MessageIds(3);
  const ts = Date.now();
  const insert = old.prepare(
    "INSERT INTO messages VALUES (?, '#old', '#old', 'a', 'a!a@h', ?, 'say', ?)",
  );
  const oldIds = ['an archived remark', 'another archived line', 'nothing to see'].map((text) => {
    const id = ids.next(ts);
    insert.run(BigInt(id), text, ts);
    return id;
  });
  old.close();

  const store = new SqliteStore(file);
  await store.init();
  const q = { terms: ['archived'], rooms: ['#old'], account: null, limit: 10, scan: 100 };
  expect((await store.search(q)).entries.map((e) => e.id)).toEqual([oldIds[1], oldIds[0]]);
  const fresh = {
    id: ids.next(ts),
    ts,
    room: '#old',
    from: 'b',
    mask: 'b!b@h',
    text: 'archived anew',
    kind: 'say' as const,
  };
  await store.appendMessage(fresh);
  expect((await store.search(q)).entries.map((e) => e.text)).toEqual([
    'archived anew',
    'another archived line',
    'an archived remark',
  ]);
  // Retention deletes rows; the trigger takes them out of the index too.
  await store.prune(0, 1);
  expect((await store.search(q)).entries.map((e) => e.text)).toEqual(['archived anew']);
  // The read markers' table came with the migration too.
  store.saveReadMarker('a', { target: '#old', id: fresh.id });
  expect(await store.readMarkers('a')).toEqual([{ target: '#old', id: fresh.id }]);
  // And the kept events' table (event playback), empty: old messages are not events.
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
  await store.close();
  const check = new Database(file);
  expect(check.pragma('user_version', { simple: true })).toBe(7);
  // FTS5's own consistency check of the index against its content table.
  check.exec("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)");
  check.close();
});
