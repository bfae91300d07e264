/**
 * SQLite store (better-sqlite3): one file in the data directory, WAL mode, schema
 * migrations versioned in code, checked at open (sqlite-open.ts). Every write goes through
 * the write queue (write-path.ts): messages and the small writes (rooms, bans, settings)
 * in one order, one transaction per batch, retried with backoff while the disk refuses
 * them. Only account creation, which the person waits for, is written directly.
 */
import type Database from 'better-sqlite3';
import type { EventEntry, HistoryEntry } from '../core/events.js';
import { ChatError, ErrorCode } from '../core/errors.js';
import type {
  AccountRecord,
  BanRecord,
  Conversation,
  ConversationsQuery,
  HistoryQuery,
  ReadMarker,
  Logger,
  RenameRecord,
  RoomRecord,
  Store,
  SearchPage,
  SearchQuery,
  StoreStats,
} from '../core/ports.js';
import { silentLogger } from '../core/ports.js';
import { fold } from '../core/names.js';
import { entryOf, type StoredRow } from './sqlite-rows.js';
import { searchIndex } from './sqlite-search.js';
import { keepOf } from './history-page.js';
import { storedTags } from '../core/tags.js';
import { decodeFlags, encodeFlags } from './room-flags.js';
import { DEFAULT_QUICK_CHECK_MAX_BYTES, isDamage, openDatabase } from './sqlite-open.js';
import { encodeDetail, eventOf, type EventRow } from './event-data.js';
import { renameOf, renameSql, type RenameRow } from './rename-rows.js';
import {
  isEventWrite,
  isStatement,
  WritePath,
  type HealthListener,
  type PendingWrite,
} from './write-path.js';
import type { WriteQueueOptions } from './write-queue.js';

export interface SqliteStoreOptions {
  queue?: Partial<WriteQueueOptions>;
  log?: Logger;
  /** Largest file (with its WAL) checked page by page at start (see sqlite-open.ts). */
  quickCheckMaxBytes?: number;
}

/** Each entry moves the schema one version forward; never edit a released entry. */
const MIGRATIONS: string[] = [
  `CREATE TABLE messages (
     id INTEGER PRIMARY KEY,
     room_key TEXT NOT NULL,
     room TEXT NOT NULL,
     sender TEXT NOT NULL,
     mask TEXT NOT NULL,
     text TEXT NOT NULL,
     kind TEXT NOT NULL,
     ts INTEGER NOT NULL
   );
   CREATE INDEX messages_room ON messages (room_key, id);
   CREATE INDEX messages_ts ON messages (ts);
   CREATE TABLE accounts (
     name_key TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     password_hash TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     last_seen INTEGER NOT NULL
   );
   CREATE TABLE rooms (
     name_key TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     topic TEXT NOT NULL,
     topic_by TEXT NOT NULL,
     topic_at INTEGER NOT NULL,
     modes TEXT NOT NULL,
     room_key TEXT,
     room_limit INTEGER NOT NULL,
     owner TEXT
   );
   CREATE TABLE bans (
     room_key TEXT NOT NULL,
     room TEXT NOT NULL,
     mask_key TEXT NOT NULL,
     mask TEXT NOT NULL,
     kind TEXT NOT NULL,
     reason TEXT NOT NULL,
     set_by TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER,
     PRIMARY KEY (room_key, mask_key, kind)
   );
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // Full-text search (https://sqlite.org/fts5.html): an external-content index of the
  // message texts (section 4.4.3), built from the messages already stored when an older
  // database is opened ('rebuild'). unicode61 folds case and diacritics; the prefix index
  // makes two-character prefix queries a lookup, not a scan. New messages are indexed by
  // the write batch itself, in its transaction (an AFTER INSERT trigger doing the same
  // made a batch three times slower, measured: docs/operations.md#search-index); deletes
  // (retention) and updates are followed by triggers.
  `CREATE VIRTUAL TABLE messages_fts USING fts5(
     text, content = 'messages', content_rowid = 'id',
     tokenize = 'unicode61 remove_diacritics 2', prefix = '2'
   );
   CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
     INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
   END;
   CREATE TRIGGER messages_fts_update AFTER UPDATE ON messages BEGIN
     INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
     INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
   END;
   INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');`,
  // Read markers (IRCv3 read-marker, JSON markread): one per account and room or
  // private conversation, only ever moving forward.
  `CREATE TABLE read_markers (
     account_key TEXT NOT NULL,
     target_key TEXT NOT NULL,
     target TEXT NOT NULL,
     marker INTEGER NOT NULL,
     PRIMARY KEY (account_key, target_key)
   );`,
  // Room events kept for IRCv3 event playback (core/event-history.ts): joins, parts,
  // topics, TAGMSGs... in a table of their own, so no read of messages (replays, resume,
  // counts, search, markers) can see them. One row per room an event happened in (a quit
  // in three rooms is three rows with one id), clustered by room for paging.
  `CREATE TABLE room_events (
     id INTEGER NOT NULL,
     room_key TEXT NOT NULL,
     room TEXT NOT NULL,
     sender TEXT NOT NULL,
     mask TEXT NOT NULL,
     kind TEXT NOT NULL,
     data TEXT NOT NULL,
     ts INTEGER NOT NULL,
     PRIMARY KEY (room_key, id)
   ) WITHOUT ROWID;
   CREATE INDEX room_events_ts ON room_events (ts);`,
  // A room rename rewrites its messages' room (renameRoom): only a change of the text
  // itself needs the search index touched, not every update of a row.
  `DROP TRIGGER messages_fts_update;
   CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
     INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
     INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
   END;`,
  // A message's client-only tags (IRCv3 message-tags: `+draft/reply`), a JSON object or
  // NULL, so history replays them (core/tags.ts bounds them to 4094 bytes).
  `ALTER TABLE messages ADD COLUMN tags TEXT;`,
  // Room renames (core/rename.ts), one row per old name (saveRename): recording one is a
  // single upsert, where a JSON list in a setting was read, changed and written back, and
  // of two nodes renaming at once one record was lost.
  `CREATE TABLE room_renames (
     from_key TEXT PRIMARY KEY,
     to_name TEXT NOT NULL,
     at INTEGER NOT NULL,
     by_name TEXT NOT NULL,
     reason TEXT NOT NULL
   );
   CREATE INDEX room_renames_at ON room_renames (at);`,
];

const RENAMES = renameSql(() => '?');

export class SqliteStore implements Store {
  readonly name = 'sqlite';
  private db!: Database.Database;
  private readonly path: WritePath;
  private readonly log: Logger;
  private insert!: Database.Statement;
  /** Indexes a message just inserted (messages_fts, above), in the same transaction. */
  private indexText!: Database.Statement;
  private insertEvent!: Database.Statement;
  private writeBatch!: (batch: PendingWrite[]) => string[];
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly file: string,
    private readonly options: SqliteStoreOptions = {},
  ) {
    this.log = options.log ?? silentLogger;
    this.path = new WritePath(
      'sqlite',
      (batch) => this.write(batch),
      options.queue ?? {},
      this.log,
    );
  }

  async init(): Promise<void> {
    this.db = openDatabase(this.file, {
      quickCheckMaxBytes: this.options.quickCheckMaxBytes ?? DEFAULT_QUICK_CHECK_MAX_BYTES,
      log: this.log,
    });
    this.migrate();
    // ON CONFLICT (id) DO NOTHING, not OR IGNORE: only an existing id is skipped (and
    // reported), any other constraint still fails the batch.
    this.insert = this.db.prepare(
      'INSERT INTO messages (id, room_key, room, sender, mask, text, kind, ts, tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
    );
    this.indexText = this.db.prepare('INSERT INTO messages_fts (rowid, text) VALUES (?, ?)');
    // An event already kept (the same id in the same room) is left as it is.
    this.insertEvent = this.db.prepare(
      'INSERT INTO room_events (id, room_key, room, sender, mask, kind, data, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.writeBatch = this.db.transaction((batch: PendingWrite[]) => {
      const duplicates: string[] = [];
      for (const w of batch) {
        if (isStatement(w)) {
          for (const one of w.all ?? [w]) this.statement(one.sql).run(...one.params);
          continue;
        }
        if (isEventWrite(w)) {
          const e = w.event;
          const { kind, data } = encodeDetail(e.detail);
          this.insertEvent.run(
            BigInt(e.id),
            fold(e.room),
            e.room,
            e.from,
            e.mask,
            kind,
            data,
            e.ts,
          );
          continue;
        }
        const id = BigInt(w.id);
        if (
          this.insert.run(
            id,
            fold(w.room),
            w.room,
            w.from,
            w.mask,
            w.text,
            w.kind,
            w.ts,
            storedTags(w.tags),
          ).changes === 0
        ) {
          duplicates.push(w.id);
        } else {
          this.indexText.run(id, w.text);
        }
      }
      return duplicates;
    });
    this.path.queue.start();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v] as string);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /** One batch, one transaction: all of it commits or none (and it is retried). */
  private write(batch: PendingWrite[]): void {
    // Reported after the commit: a batch that fails is retried and would count them twice.
    this.path.duplicatesFound(this.writeBatch(batch));
  }

  private statement(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  appendMessage(entry: HistoryEntry): Promise<void> {
    return this.path.appendMessage(entry);
  }

  /** Messages accepted but not yet written (for back-pressure and metrics). */
  backlog(): number {
    return this.path.queue.size;
  }

  writable(): boolean {
    return this.path.writable();
  }

  stats(): StoreStats {
    return this.path.stats();
  }

  onHealthChange(listener: HealthListener): void {
    this.path.onHealthChange(listener);
  }

  /**
   * Caps the database at `pages` pages (PRAGMA max_page_count, this connection only):
   * past it SQLite fails writes with SQLITE_FULL exactly as on a full disk. Returns the
   * cap in effect (never below the current size). A size quota, and how the tests fill a
   * database without filling a disk.
   */
  setMaxPages(pages: number): number {
    return this.db.pragma(`max_page_count = ${Math.max(1, Math.floor(pages))}`, {
      simple: true,
    }) as number;
  }

  async history(query: HistoryQuery): Promise<HistoryEntry[]> {
    // Reads must see what was shown: write out anything still queued first (and, while
    // writes fail, add what is still waiting).
    await this.path.queue.flush();
    const where = ['room_key = @room'];
    if (query.before !== undefined) where.push('id < @before');
    if (query.after !== undefined) where.push('id > @after');
    const oldest = keepOf(query) === 'oldest';
    const sql = `SELECT * FROM messages WHERE ${where.join(' AND ')} ORDER BY id ${oldest ? 'ASC' : 'DESC'} LIMIT @limit`;
    // 64-bit ids read as BigInt: as JavaScript numbers they lost their last digits (the
    // node number), so a page's ids matched no message and `before` skipped or repeated.
    const rows = this.read(() =>
      this.statement(sql)
        .safeIntegers(true)
        .all({
          room: fold(query.room),
          limit: Math.max(0, query.limit),
          ...(query.before !== undefined ? { before: BigInt(query.before) } : {}),
          ...(query.after !== undefined ? { after: BigInt(query.after) } : {}),
        }),
    ) as StoredRow[];
    if (!oldest) rows.reverse();
    return this.path.withPending(rows.map(entryOf), query);
  }

  appendEvent(entry: EventEntry): void {
    this.path.appendEvent(entry);
  }

  async events(query: HistoryQuery): Promise<EventEntry[]> {
    await this.path.queue.flush();
    const where = ['room_key = @room'];
    if (query.before !== undefined) where.push('id < @before');
    if (query.after !== undefined) where.push('id > @after');
    const oldest = keepOf(query) === 'oldest';
    const sql = `SELECT id, room, sender, mask, kind, data, ts FROM room_events WHERE ${where.join(' AND ')} ORDER BY id ${oldest ? 'ASC' : 'DESC'} LIMIT @limit`;
    const rows = this.read(() =>
      this.statement(sql)
        .safeIntegers(true)
        .all({
          room: fold(query.room),
          limit: Math.max(0, query.limit),
          ...(query.before !== undefined ? { before: BigInt(query.before) } : {}),
          ...(query.after !== undefined ? { after: BigInt(query.after) } : {}),
        }),
    ) as EventRow[];
    if (!oldest) rows.reverse();
    const entries: EventEntry[] = [];
    for (const row of rows) {
      const e = eventOf(row);
      if (e !== null) entries.push(e);
    }
    return this.path.withPendingEvents(entries, query);
  }

  async messagesAfter(room: string, after: string, limit: number): Promise<HistoryEntry[]> {
    await this.path.queue.flush();
    const rows = this.read(() =>
      this.db
        .prepare('SELECT * FROM messages WHERE room_key = ? AND id > ? ORDER BY id ASC LIMIT ?')
        .safeIntegers(true)
        .all(fold(room), BigInt(after), limit),
    ) as StoredRow[];
    return this.path.withPendingAfter(rows.map(entryOf), room, after, limit);
  }

  async countAfter(room: string, after: string): Promise<number> {
    await this.path.queue.flush();
    const row = this.read(() =>
      this.db
        .prepare('SELECT COUNT(*) AS n FROM messages WHERE room_key = ? AND id > ?')
        .get(fold(room), BigInt(after)),
    ) as { n: number };
    return row.n + this.path.countPendingAfter(room, after);
  }

  async search(q: SearchQuery): Promise<SearchPage> {
    await this.path.queue.flush();
    return this.read(() => searchIndex(this.db, q));
  }

  async conversations(query: ConversationsQuery): Promise<Conversation[]> {
    await this.path.queue.flush();
    // A bare column beside max() comes from the row holding the maximum (SQLite's
    // documented rule for aggregate queries), so `room` and `ts` are the newest message's.
    const rows = this.read(() =>
      this.statement(
        `SELECT room, CAST(max(id) AS TEXT) AS id, ts FROM messages
         WHERE room_key IN (SELECT value FROM json_each(@rooms))
            OR (@account IS NOT NULL AND room_key >= '@' AND room_key < 'A'
                AND (substr(room_key, 2, length(@account) + 1) = @account || ' '
                     OR substr(room_key, -length(@account) - 1) = ' ' || @account))
         GROUP BY room_key HAVING ts > @after AND ts < @before
         ORDER BY ts, id LIMIT @limit`,
      ).all({
        rooms: JSON.stringify(query.rooms.map(fold)),
        account: query.account === undefined ? null : fold(query.account),
        after: query.after,
        before: query.before,
        limit: Math.max(0, query.limit),
      }),
    ) as { room: string; id: number | bigint; ts: number }[];
    return rows.map((r) => ({ room: r.room, id: String(r.id), ts: r.ts }));
  }

  async readMarkers(account: string): Promise<ReadMarker[]> {
    await this.path.queue.flush();
    const rows = this.statement(
      'SELECT target, CAST(marker AS TEXT) AS marker FROM read_markers WHERE account_key = ?',
    ).all(fold(account)) as { target: string; marker: number | bigint }[];
    return rows.map((r) => ({ target: r.target, id: String(r.marker) }));
  }

  saveReadMarker(account: string, marker: ReadMarker): void {
    this.path.statement(
      `INSERT INTO read_markers (account_key, target_key, target, marker) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_key, target_key) DO UPDATE
         SET marker = excluded.marker, target = excluded.target
         WHERE excluded.marker > read_markers.marker`,
      [fold(account), fold(marker.target), marker.target, BigInt(marker.id)],
    );
  }

  /** A read that finds damaged pages marks the store unhealthy (readiness), then fails. */
  private read<R>(run: () => R): R {
    try {
      return run();
    } catch (err) {
      if (isDamage(err)) {
        this.path.faulted(
          err,
          `${this.file} has damaged pages: restore it from a backup, or stop the server and move it aside to start empty`,
        );
      }
      throw err;
    }
  }

  async getAccount(name: string): Promise<AccountRecord | null> {
    await this.path.queue.flush();
    const row = this.db.prepare('SELECT * FROM accounts WHERE name_key = ?').get(fold(name)) as
      { name: string; password_hash: string; created_at: number; last_seen: number } | undefined;
    return row
      ? {
          name: row.name,
          passwordHash: row.password_hash,
          createdAt: row.created_at,
          lastSeen: row.last_seen,
        }
      : null;
  }

  async createAccount(a: AccountRecord): Promise<boolean> {
    try {
      const r = this.db
        .prepare(
          'INSERT INTO accounts (name_key, name, password_hash, created_at, last_seen) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name_key) DO NOTHING',
        )
        .run(fold(a.name), a.name, a.passwordHash, a.createdAt, a.lastSeen);
      return r.changes === 1;
    } catch (err) {
      this.path.directFailed(err, 'create account');
      throw new ChatError(
        ErrorCode.StoreUnavailable,
        'Accounts cannot be saved right now; try again shortly',
      );
    }
  }

  touchAccount(name: string, ts: number): void {
    this.path.statement('UPDATE accounts SET last_seen = ? WHERE name_key = ?', [ts, fold(name)]);
  }

  saveRoom(r: RoomRecord): void {
    this.path.statement(
      `INSERT OR REPLACE INTO rooms (name_key, name, topic, topic_by, topic_at, modes, room_key, room_limit, owner)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        fold(r.name),
        r.name,
        r.topic,
        r.topicBy,
        r.topicAt,
        encodeFlags(r.flags),
        r.key,
        r.limit,
        r.owner,
      ],
    );
  }

  async loadRooms(): Promise<RoomRecord[]> {
    await this.path.queue.flush();
    const rows = this.db.prepare('SELECT * FROM rooms').all() as {
      name: string;
      topic: string;
      topic_by: string;
      topic_at: number;
      modes: string;
      room_key: string | null;
      room_limit: number;
      owner: string | null;
    }[];
    return rows.map((r) => ({
      name: r.name,
      topic: r.topic,
      topicBy: r.topic_by,
      topicAt: r.topic_at,
      flags: decodeFlags(r.modes),
      key: r.room_key,
      limit: r.room_limit,
      owner: r.owner,
    }));
  }

  saveBan(b: BanRecord): void {
    this.path.statement(
      `INSERT OR REPLACE INTO bans (room_key, room, mask_key, mask, kind, reason, set_by, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        fold(b.room),
        b.room,
        fold(b.mask),
        b.mask,
        b.kind,
        b.reason,
        b.setBy,
        b.createdAt,
        b.expiresAt,
      ],
    );
  }

  deleteBan(room: string, mask: string, kind: 'ban' | 'mute'): void {
    this.path.statement('DELETE FROM bans WHERE room_key = ? AND mask_key = ? AND kind = ?', [
      fold(room),
      fold(mask),
      kind,
    ]);
  }

  async loadBans(): Promise<BanRecord[]> {
    await this.path.queue.flush();
    const rows = this.db
      .prepare('SELECT * FROM bans WHERE expires_at IS NULL OR expires_at > ?')
      .all(Date.now()) as {
      room: string;
      mask: string;
      kind: 'ban' | 'mute';
      reason: string;
      set_by: string;
      created_at: number;
      expires_at: number | null;
    }[];
    return rows.map((r) => ({
      room: r.room,
      mask: r.mask,
      kind: r.kind,
      reason: r.reason,
      setBy: r.set_by,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
    }));
  }

  /**
   * One transaction (StatementWrite.all). `UPDATE OR REPLACE`: a row already under the new
   * key (a read marker of a name nobody used since) gives way to the room's own.
   */
  renameRoom(from: string, to: string): void {
    const p = [fold(to), to, fold(from)];
    this.path.statements([
      { sql: 'UPDATE messages SET room_key = ?, room = ? WHERE room_key = ?', params: p },
      { sql: 'UPDATE OR REPLACE rooms SET name_key = ?, name = ? WHERE name_key = ?', params: p },
      { sql: 'UPDATE OR REPLACE bans SET room_key = ?, room = ? WHERE room_key = ?', params: p },
      {
        sql: 'UPDATE OR REPLACE read_markers SET target_key = ?, target = ? WHERE target_key = ?',
        params: p,
      },
      // Events kept for IRCv3 event playback follow too.
      {
        sql: 'UPDATE OR REPLACE room_events SET room_key = ?, room = ? WHERE room_key = ?',
        params: p,
      },
    ]);
  }

  saveRename(r: RenameRecord, keep: number): void {
    this.path.statements(RENAMES.save(r, keep));
  }

  async renames(limit: number): Promise<RenameRecord[]> {
    await this.path.queue.flush();
    const rows = this.read(() =>
      this.statement(RENAMES.newest).all(Math.max(0, limit)),
    ) as RenameRow[];
    return rows.reverse().map(renameOf);
  }

  async renamedFrom(from: string): Promise<RenameRecord | null> {
    await this.path.queue.flush();
    const row = this.read(() => this.statement(RENAMES.from).get(from)) as RenameRow | undefined;
    return row ? renameOf(row) : null;
  }

  async getSetting(key: string): Promise<string | null> {
    await this.path.queue.flush();
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as
      { value: string } | undefined;
    return row?.value ?? null;
  }

  setSetting(key: string, value: string): void {
    this.path.statement('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)', [key, value]);
  }

  async pruneSettings(prefix: string, stale: (value: string) => boolean): Promise<number> {
    await this.path.queue.flush();
    // A range on the key (BINARY collation: byte order), so the primary key's index serves.
    const rows = this.read(() =>
      this.db
        .prepare('SELECT key, value FROM settings WHERE key >= ? AND key < ?')
        .all(prefix, prefixEnd(prefix)),
    ) as { key: string; value: string }[];
    const old = rows.filter((r) => stale(r.value));
    // Queued like every small write, and only if unchanged: a newer value stays.
    for (const r of old) {
      this.path.statement('DELETE FROM settings WHERE key = ? AND value = ?', [r.key, r.value]);
    }
    return old.length;
  }

  async prune(maxAgeMs: number, maxCount: number, room?: string): Promise<number> {
    const removed = await this.pruneTable('messages', 'id', maxAgeMs, maxCount, room);
    await this.pruneEvents(maxAgeMs, maxCount, room);
    return removed;
  }

  async pruneEvents(maxAgeMs: number, maxCount: number, room?: string): Promise<number> {
    return this.pruneTable('room_events', 'room_key, id', maxAgeMs, maxCount, room);
  }

  /**
   * One retention rule for both tables: rows older than `maxAgeMs`, then all but the
   * newest `maxCount` per room. `table` and `key` (the row's identity) are ours, never input.
   */
  private async pruneTable(
    table: 'messages' | 'room_events',
    key: 'id' | 'room_key, id',
    maxAgeMs: number,
    maxCount: number,
    room?: string,
  ): Promise<number> {
    await this.path.queue.flush();
    const where = room === undefined ? '' : ' AND room_key = @room';
    const params = {
      room: room === undefined ? null : fold(room),
      cutoff: Date.now() - maxAgeMs,
      keep: maxCount,
    };
    let removed = 0;
    if (maxAgeMs > 0) {
      removed += this.db
        .prepare(`DELETE FROM ${table} WHERE ts < @cutoff${where}`)
        .run(params).changes;
    }
    if (maxCount > 0) {
      removed += this.db
        .prepare(
          `DELETE FROM ${table} WHERE (${key}) IN (
             SELECT ${key} FROM (
               SELECT ${key}, ROW_NUMBER() OVER (PARTITION BY room_key ORDER BY id DESC) AS n
               FROM ${table} WHERE 1 = 1${where}
             ) WHERE n > @keep)`,
        )
        .run(params).changes;
    }
    return removed;
  }

  healthy(): boolean {
    return this.db?.open === true && this.path.healthy();
  }

  async close(): Promise<void> {
    await this.path.queue.stop();
    if (this.db?.open) this.db.close();
  }
}

/** The first string after every string that starts with `prefix` (in code unit order). */
function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
