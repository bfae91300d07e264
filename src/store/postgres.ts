/**
 * PostgreSQL store (`pg`), for deployments where several nodes share state. Migrations run
 * on start inside an advisory lock, so nodes starting together do not race. Every write
 * goes through the write queue (write-path.ts): a batch of messages is one multi-row
 * INSERT; a batch that also holds small writes (rooms, bans, settings) is one transaction.
 * Failed batches are retried with backoff, never dropped.
 */
import pg from 'pg';
import type { EventEntry, HistoryEntry } from '../core/events.js';
import { ChatError, ErrorCode } from '../core/errors.js';
import { fold } from '../core/names.js';
import { decodeFlags, encodeFlags } from './room-flags.js';
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
  SearchPage,
  SearchQuery,
  Store,
  StoreStats,
} from '../core/ports.js';
import { silentLogger } from '../core/ports.js';
import { storedTags, tagsFromStore } from '../core/tags.js';
import { isPrefixTerm } from '../core/search-terms.js';
import { cutPage } from './search-page.js';
import { keepOf } from './history-page.js';
import { failureCode } from './write-failure.js';
import { encodeDetail, eventOf, type EventRow } from './event-data.js';
import { renameOf, renameSql, type RenameRow } from './rename-rows.js';
import {
  isEventWrite,
  isMessage,
  isStatement,
  WritePath,
  type HealthListener,
  type PendingWrite,
} from './write-path.js';
import type { WriteQueueOptions } from './write-queue.js';

export interface PostgresStoreOptions {
  queue?: Partial<WriteQueueOptions>;
  log?: Logger;
}

const MIGRATIONS: string[] = [
  `CREATE TABLE messages (
     id BIGINT PRIMARY KEY,
     room_key TEXT NOT NULL,
     room TEXT NOT NULL,
     sender TEXT NOT NULL,
     mask TEXT NOT NULL,
     text TEXT NOT NULL,
     kind TEXT NOT NULL,
     ts BIGINT NOT NULL
   );
   CREATE INDEX messages_room ON messages (room_key, id);
   CREATE INDEX messages_ts ON messages (ts);
   CREATE TABLE accounts (
     name_key TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     password_hash TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     last_seen BIGINT NOT NULL
   );
   CREATE TABLE rooms (
     name_key TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     topic TEXT NOT NULL,
     topic_by TEXT NOT NULL,
     topic_at BIGINT NOT NULL,
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
     created_at BIGINT NOT NULL,
     expires_at BIGINT,
     PRIMARY KEY (room_key, mask_key, kind)
   );
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // Full-text search (https://www.postgresql.org/docs/current/textsearch-tables.html): a
  // generated tsvector column, filled for the messages already stored by the ALTER itself
  // (it rewrites the table), and a GIN index on it. 'simple': no language's stemming or
  // stop words, since one room mixes languages; lower-cased words, as FTS5 keeps them.
  `ALTER TABLE messages ADD COLUMN text_search tsvector
     GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, text)) STORED;
   CREATE INDEX messages_text_search ON messages USING GIN (text_search);`,
  // Read markers (IRCv3 read-marker, JSON markread): one per account and room or
  // private conversation, only ever moving forward.
  `CREATE TABLE read_markers (
     account_key TEXT NOT NULL,
     target_key TEXT NOT NULL,
     target TEXT NOT NULL,
     marker BIGINT NOT NULL,
     PRIMARY KEY (account_key, target_key)
   );`,
  // Room events kept for IRCv3 event playback (core/event-history.ts), in a table of
  // their own so that no read of messages sees them; one row per room (a quit in three
  // rooms: three rows, one id).
  `CREATE TABLE room_events (
     id BIGINT NOT NULL,
     room_key TEXT NOT NULL,
     room TEXT NOT NULL,
     sender TEXT NOT NULL,
     mask TEXT NOT NULL,
     kind TEXT NOT NULL,
     data TEXT NOT NULL,
     ts BIGINT NOT NULL,
     PRIMARY KEY (room_key, id)
   );
   CREATE INDEX room_events_ts ON room_events (ts);`,
  // A message's client-only tags (IRCv3 message-tags: `+draft/reply`), a JSON object or
  // NULL, so history replays them (core/tags.ts bounds them to 4094 bytes).
  `ALTER TABLE messages ADD COLUMN tags TEXT;`,
  // Room renames (core/rename.ts), one row per old name (saveRename): recording one is a
  // single upsert, where a JSON list in a setting was read, changed and written back, and
  // of two nodes renaming at once one record was lost.
  `CREATE TABLE room_renames (
     from_key TEXT PRIMARY KEY,
     to_name TEXT NOT NULL,
     at BIGINT NOT NULL,
     by_name TEXT NOT NULL,
     reason TEXT NOT NULL
   );
   CREATE INDEX room_renames_at ON room_renames (at);`,
];

/** Past every message id (ids.ts): the `before` of a search's first page. */
const NO_ID_ABOVE = '9223372036854775807';

const MIGRATION_LOCK = 0x706c7567; // "plug"

const RENAMES = renameSql((n) => `$${n}`);

function entryOf(row: Record<string, string>): HistoryEntry {
  return {
    id: String(row.id),
    ts: Number(row.ts),
    room: row.room as string,
    from: row.sender as string,
    mask: row.mask as string,
    text: row.text as string,
    kind: row.kind as HistoryEntry['kind'],
    ...withTags(row.tags),
  };
}

function withTags(json: string | null | undefined): { tags?: Record<string, string> } {
  const tags = tagsFromStore(json);
  return tags ? { tags } : {};
}

export class PostgresStore implements Store {
  readonly name = 'postgres';
  private readonly pool: pg.Pool;
  private readonly path: WritePath;
  private readonly log: Logger;
  private ready = false;

  constructor(url: string, options: PostgresStoreOptions = {}) {
    this.log = options.log ?? silentLogger;
    this.pool = new pg.Pool({ connectionString: url, max: 4 });
    // An idle connection that dies (server restart) is dropped by the pool; whether the
    // database is usable is told by the next write, not by this.
    this.pool.on('error', (err) =>
      this.log.warn({ err, code: failureCode(err) }, 'postgres: idle connection lost'),
    );
    this.path = new WritePath(
      'postgres',
      (batch) => this.write(batch),
      options.queue ?? {},
      this.log,
    );
  }

  async init(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      const r = await client.query<{ version: number }>('SELECT version FROM schema_version');
      let version = r.rows[0]?.version ?? 0;
      if (r.rows.length === 0) await client.query('INSERT INTO schema_version VALUES (0)');
      for (; version < MIGRATIONS.length; version++) {
        await client.query('BEGIN');
        await client.query(MIGRATIONS[version] as string);
        await client.query('UPDATE schema_version SET version = $1', [version + 1]);
        await client.query('COMMIT');
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
      client.release();
    }
    this.ready = true;
    this.path.queue.start();
  }

  /** One batch: a single INSERT when it is all messages, else one transaction. */
  private async write(batch: PendingWrite[]): Promise<void> {
    if (batch.every(isMessage)) {
      const inserted = await this.insertMessages(this.pool, batch);
      this.path.duplicatesFound(missing(batch, inserted));
      return;
    }
    const client = await this.pool.connect();
    const duplicates: string[] = [];
    try {
      await client.query('BEGIN');
      for (let i = 0; i < batch.length;) {
        const w = batch[i] as PendingWrite;
        if (isStatement(w)) {
          for (const one of w.all ?? [w]) await client.query(one.sql, one.params as unknown[]);
          i++;
          continue;
        }
        // Consecutive messages go as one INSERT, consecutive events as another.
        const events = isEventWrite(w);
        const sameRun = (x: PendingWrite) => (events ? isEventWrite(x) : isMessage(x));
        let j = i;
        while (j < batch.length && sameRun(batch[j] as PendingWrite)) j++;
        const run = batch.slice(i, j);
        if (events) {
          await this.insertEvents(
            client,
            run.filter(isEventWrite).map((x) => x.event),
          );
        } else {
          const messages = run as HistoryEntry[];
          duplicates.push(...missing(messages, await this.insertMessages(client, messages)));
        }
        i = j;
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      client.release(err as Error);
      throw err;
    }
    client.release();
    this.path.duplicatesFound(duplicates);
  }

  /** Inserts kept events; one already kept (same room, same id) is left as it is. */
  private async insertEvents(db: pg.PoolClient, entries: EventEntry[]): Promise<void> {
    const values: unknown[] = [];
    const rows: string[] = [];
    for (const e of entries) {
      const i = values.length;
      const { kind, data } = encodeDetail(e.detail);
      rows.push(
        `($${i + 1},$${i + 2},$${i + 3},$${i + 4},$${i + 5},$${i + 6},$${i + 7},$${i + 8})`,
      );
      values.push(e.id, fold(e.room), e.room, e.from, e.mask, kind, data, e.ts);
    }
    await db.query(
      `INSERT INTO room_events (id, room_key, room, sender, mask, kind, data, ts) VALUES ${rows.join(',')}
       ON CONFLICT DO NOTHING`,
      values,
    );
  }

  /** Inserts messages; returns the ids written (an id already stored is skipped). */
  private async insertMessages(
    db: pg.Pool | pg.PoolClient,
    entries: HistoryEntry[],
  ): Promise<Set<string>> {
    const values: unknown[] = [];
    const rows: string[] = [];
    for (const e of entries) {
      const i = values.length;
      rows.push(
        `($${i + 1},$${i + 2},$${i + 3},$${i + 4},$${i + 5},$${i + 6},$${i + 7},$${i + 8},$${i + 9})`,
      );
      values.push(
        e.id,
        fold(e.room),
        e.room,
        e.from,
        e.mask,
        e.text,
        e.kind,
        e.ts,
        storedTags(e.tags),
      );
    }
    const r = await db.query<{ id: string }>(
      `INSERT INTO messages (id, room_key, room, sender, mask, text, kind, ts, tags) VALUES ${rows.join(',')}
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      values,
    );
    return new Set(r.rows.map((row) => String(row.id)));
  }

  appendMessage(entry: HistoryEntry): Promise<void> {
    return this.path.appendMessage(entry);
  }

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

  async history(query: HistoryQuery): Promise<HistoryEntry[]> {
    // Reads must see what was shown; while writes fail, what waits is added.
    await this.path.queue.flush();
    const params: unknown[] = [fold(query.room)];
    const where = ['room_key = $1'];
    if (query.before !== undefined) {
      params.push(query.before);
      where.push(`id < $${params.length}`);
    }
    if (query.after !== undefined) {
      params.push(query.after);
      where.push(`id > $${params.length}`);
    }
    params.push(Math.max(0, query.limit));
    const oldest = keepOf(query) === 'oldest';
    const r = await this.pool.query(
      // The columns named, not *: the tsvector is the search index's business.
      `SELECT id, room, sender, mask, text, kind, ts, tags FROM messages WHERE ${where.join(' AND ')} ORDER BY id ${oldest ? 'ASC' : 'DESC'} LIMIT $${params.length}`,
      params,
    );
    const rows = oldest ? r.rows : r.rows.reverse();
    return this.path.withPending(rows.map(entryOf), query);
  }

  appendEvent(entry: EventEntry): void {
    this.path.appendEvent(entry);
  }

  async events(query: HistoryQuery): Promise<EventEntry[]> {
    await this.path.queue.flush();
    const params: unknown[] = [fold(query.room)];
    const where = ['room_key = $1'];
    if (query.before !== undefined) {
      params.push(query.before);
      where.push(`id < $${params.length}`);
    }
    if (query.after !== undefined) {
      params.push(query.after);
      where.push(`id > $${params.length}`);
    }
    params.push(Math.max(0, query.limit));
    const oldest = keepOf(query) === 'oldest';
    const r = await this.pool.query<EventRow>(
      `SELECT id, room, sender, mask, kind, data, ts FROM room_events WHERE ${where.join(' AND ')} ORDER BY id ${oldest ? 'ASC' : 'DESC'} LIMIT $${params.length}`,
      params,
    );
    const rows = oldest ? r.rows : r.rows.reverse();
    const entries: EventEntry[] = [];
    for (const row of rows) {
      const e = eventOf(row);
      if (e !== null) entries.push(e);
    }
    return this.path.withPendingEvents(entries, query);
  }

  async messagesAfter(room: string, after: string, limit: number): Promise<HistoryEntry[]> {
    await this.path.queue.flush();
    const r = await this.pool.query(
      'SELECT * FROM messages WHERE room_key = $1 AND id > $2 ORDER BY id ASC LIMIT $3',
      [fold(room), after, limit],
    );
    return this.path.withPendingAfter(r.rows.map(entryOf), room, after, limit);
  }

  async countAfter(room: string, after: string): Promise<number> {
    await this.path.queue.flush();
    const r = await this.pool.query(
      'SELECT COUNT(*) AS n FROM messages WHERE room_key = $1 AND id > $2',
      [fold(room), after],
    );
    return Number((r.rows[0] as { n: string }).n) + this.path.countPendingAfter(room, after);
  }

  async search(q: SearchQuery): Promise<SearchPage> {
    await this.path.queue.flush();
    // The columns named, not *: the tsvector is the index's business, not the reader's.
    const window = await this.pool.query<{ id: string; room_key: string }>(
      `SELECT id, room_key FROM messages
       WHERE text_search @@ to_tsquery('simple'::regconfig, $1) AND id < $2
       ORDER BY id DESC LIMIT $3`,
      [tsQuery(q.terms), q.before ?? NO_ID_ABOVE, q.scan],
    );
    const { ids, next } = cutPage(
      window.rows.map((r) => ({ id: String(r.id), roomKey: r.room_key })),
      q,
    );
    if (ids.length === 0) return { entries: [], next };
    const r = await this.pool.query(
      `SELECT id, room, sender, mask, text, kind, ts, tags FROM messages
       WHERE id = ANY($1::bigint[]) ORDER BY id DESC`,
      [ids],
    );
    return {
      entries: r.rows.map(entryOf),
      next,
    };
  }

  async conversations(query: ConversationsQuery): Promise<Conversation[]> {
    await this.path.queue.flush();
    const account = query.account === undefined ? null : fold(query.account);
    const r = await this.pool.query<{ room: string; id: string; ts: string }>(
      `SELECT room, id, ts FROM (
         SELECT DISTINCT ON (room_key) room, id, ts FROM messages
         WHERE room_key = ANY($1::text[])
            OR ($2::text IS NOT NULL AND room_key >= '@' AND room_key < 'A'
                AND (left(room_key, length($2) + 2) = '@' || $2 || ' '
                     OR right(room_key, length($2) + 1) = ' ' || $2))
         ORDER BY room_key, id DESC
       ) newest
       WHERE ts > $3 AND ts < $4 ORDER BY ts, id LIMIT $5`,
      [query.rooms.map(fold), account, query.after, query.before, Math.max(0, query.limit)],
    );
    return r.rows.map((row) => ({ room: row.room, id: String(row.id), ts: Number(row.ts) }));
  }

  async readMarkers(account: string): Promise<ReadMarker[]> {
    await this.path.queue.flush();
    const r = await this.pool.query<{ target: string; marker: string }>(
      'SELECT target, marker FROM read_markers WHERE account_key = $1',
      [fold(account)],
    );
    return r.rows.map((row) => ({ target: row.target, id: String(row.marker) }));
  }

  saveReadMarker(account: string, marker: ReadMarker): void {
    this.path.statement(
      `INSERT INTO read_markers (account_key, target_key, target, marker) VALUES ($1, $2, $3, $4)
       ON CONFLICT (account_key, target_key) DO UPDATE
         SET marker = excluded.marker, target = excluded.target
         WHERE excluded.marker > read_markers.marker`,
      [fold(account), fold(marker.target), marker.target, marker.id],
    );
  }

  async getAccount(name: string): Promise<AccountRecord | null> {
    await this.path.queue.flush();
    const r = await this.pool.query('SELECT * FROM accounts WHERE name_key = $1', [fold(name)]);
    const row = r.rows[0] as Record<string, string> | undefined;
    return row
      ? {
          name: row.name as string,
          passwordHash: row.password_hash as string,
          createdAt: Number(row.created_at),
          lastSeen: Number(row.last_seen),
        }
      : null;
  }

  async createAccount(a: AccountRecord): Promise<boolean> {
    try {
      const r = await this.pool.query(
        `INSERT INTO accounts (name_key, name, password_hash, created_at, last_seen) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name_key) DO NOTHING`,
        [fold(a.name), a.name, a.passwordHash, a.createdAt, a.lastSeen],
      );
      return r.rowCount === 1;
    } catch (err) {
      this.path.directFailed(err, 'create account');
      throw new ChatError(
        ErrorCode.StoreUnavailable,
        'Accounts cannot be saved right now; try again shortly',
      );
    }
  }

  touchAccount(name: string, ts: number): void {
    this.path.statement('UPDATE accounts SET last_seen = $1 WHERE name_key = $2', [ts, fold(name)]);
  }

  saveRoom(r: RoomRecord): void {
    this.path.statement(
      `INSERT INTO rooms (name_key, name, topic, topic_by, topic_at, modes, room_key, room_limit, owner)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (name_key) DO UPDATE SET name = $2, topic = $3, topic_by = $4, topic_at = $5,
         modes = $6, room_key = $7, room_limit = $8, owner = $9`,
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
    const r = await this.pool.query('SELECT * FROM rooms');
    return r.rows.map((row: Record<string, string | null>) => ({
      name: row.name as string,
      topic: row.topic as string,
      topicBy: row.topic_by as string,
      topicAt: Number(row.topic_at),
      flags: decodeFlags(row.modes as string),
      key: row.room_key ?? null,
      limit: Number(row.room_limit),
      owner: row.owner ?? null,
    }));
  }

  saveBan(b: BanRecord): void {
    this.path.statement(
      `INSERT INTO bans (room_key, room, mask_key, mask, kind, reason, set_by, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (room_key, mask_key, kind) DO UPDATE SET reason = $6, set_by = $7, created_at = $8, expires_at = $9`,
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
    this.path.statement('DELETE FROM bans WHERE room_key = $1 AND mask_key = $2 AND kind = $3', [
      fold(room),
      fold(mask),
      kind,
    ]);
  }

  async loadBans(): Promise<BanRecord[]> {
    await this.path.queue.flush();
    const r = await this.pool.query(
      'SELECT * FROM bans WHERE expires_at IS NULL OR expires_at > $1',
      [Date.now()],
    );
    return r.rows.map((row: Record<string, string | null>) => ({
      room: row.room as string,
      mask: row.mask as string,
      kind: row.kind as 'ban' | 'mute',
      reason: row.reason as string,
      setBy: row.set_by as string,
      createdAt: Number(row.created_at),
      expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    }));
  }

  saveRename(r: RenameRecord, keep: number): void {
    this.path.statements(RENAMES.save(r, keep));
  }

  async renames(limit: number): Promise<RenameRecord[]> {
    await this.path.queue.flush();
    const r = await this.pool.query<RenameRow>(RENAMES.newest, [Math.max(0, limit)]);
    return r.rows.reverse().map(renameOf);
  }

  async renamedFrom(from: string): Promise<RenameRecord | null> {
    await this.path.queue.flush();
    const r = await this.pool.query<RenameRow>(RENAMES.from, [from]);
    const row = r.rows[0];
    return row ? renameOf(row) : null;
  }

  async getSetting(key: string): Promise<string | null> {
    await this.path.queue.flush();
    const r = await this.pool.query('SELECT value FROM settings WHERE key = $1', [key]);
    return (r.rows[0] as { value: string } | undefined)?.value ?? null;
  }

  /**
   * One transaction (StatementWrite.all). Rows already under the new key (a read marker of
   * a name nobody used since) give way to the room's own, as SQLite's UPDATE OR REPLACE.
   */
  renameRoom(from: string, to: string): void {
    const a = fold(from);
    const b = fold(to);
    const p = [b, to, a];
    const stale = a === b ? [] : [a, b];
    this.path.statements([
      { sql: 'UPDATE messages SET room_key = $1, room = $2 WHERE room_key = $3', params: p },
      ...(a === b
        ? []
        : [
            {
              sql: 'DELETE FROM rooms WHERE name_key = $2 AND $1::text <> $2::text',
              params: stale,
            },
            {
              sql: `DELETE FROM bans n WHERE n.room_key = $2 AND $1::text <> $2::text AND EXISTS
                      (SELECT 1 FROM bans o WHERE o.room_key = $1 AND o.mask_key = n.mask_key AND o.kind = n.kind)`,
              params: stale,
            },
            {
              sql: `DELETE FROM room_events n WHERE n.room_key = $2 AND $1::text <> $2::text AND EXISTS
                      (SELECT 1 FROM room_events o WHERE o.room_key = $1 AND o.id = n.id)`,
              params: stale,
            },
            {
              sql: `DELETE FROM read_markers n WHERE n.target_key = $2 AND $1::text <> $2::text AND EXISTS
                      (SELECT 1 FROM read_markers o WHERE o.target_key = $1 AND o.account_key = n.account_key)`,
              params: stale,
            },
          ]),
      { sql: 'UPDATE rooms SET name_key = $1, name = $2 WHERE name_key = $3', params: p },
      { sql: 'UPDATE bans SET room_key = $1, room = $2 WHERE room_key = $3', params: p },
      { sql: 'UPDATE room_events SET room_key = $1, room = $2 WHERE room_key = $3', params: p },
      {
        sql: 'UPDATE read_markers SET target_key = $1, target = $2 WHERE target_key = $3',
        params: p,
      },
    ]);
  }

  setSetting(key: string, value: string): void {
    this.path.statement(
      'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2',
      [key, value],
    );
  }

  async pruneSettings(prefix: string, stale: (value: string) => boolean): Promise<number> {
    await this.path.queue.flush();
    // starts_with, not a range: the database's collation need not be byte order.
    const r = await this.pool.query('SELECT key, value FROM settings WHERE starts_with(key, $1)', [
      prefix,
    ]);
    const old = (r.rows as { key: string; value: string }[]).filter((row) => stale(row.value));
    // Queued like every small write, and only if unchanged: a newer value stays.
    for (const row of old) {
      this.path.statement('DELETE FROM settings WHERE key = $1 AND value = $2', [
        row.key,
        row.value,
      ]);
    }
    return old.length;
  }

  async prune(maxAgeMs: number, maxCount: number, room?: string): Promise<number> {
    const removed = await this.pruneRows('messages', maxAgeMs, maxCount, room);
    await this.pruneEvents(maxAgeMs, maxCount, room);
    return removed;
  }

  async pruneEvents(maxAgeMs: number, maxCount: number, room?: string): Promise<number> {
    return this.pruneRows('room_events', maxAgeMs, maxCount, room);
  }

  /**
   * Retention, the same rule for messages and kept events: rows older than `maxAgeMs`,
   * then all but the newest `maxCount` of each room (of `room` only, if given).
   */
  private async pruneRows(
    table: keyof typeof ROW_IDENTITY,
    maxAgeMs: number,
    maxCount: number,
    room?: string,
  ): Promise<number> {
    const key = ROW_IDENTITY[table];
    await this.path.queue.flush();
    const only = room === undefined ? null : fold(room);
    let removed = 0;
    if (maxAgeMs > 0) {
      const r = await this.pool.query(
        `DELETE FROM ${table} WHERE ts < $1 AND ($2::text IS NULL OR room_key = $2)`,
        [Date.now() - maxAgeMs, only],
      );
      removed += r.rowCount ?? 0;
    }
    if (maxCount > 0) {
      const r = await this.pool.query(
        `DELETE FROM ${table} WHERE (${key}) IN (
           SELECT ${key} FROM (
             SELECT ${key}, ROW_NUMBER() OVER (PARTITION BY room_key ORDER BY id DESC) AS n
             FROM ${table} WHERE $2::text IS NULL OR room_key = $2
           ) ranked WHERE n > $1)`,
        [maxCount, only],
      );
      removed += r.rowCount ?? 0;
    }
    return removed;
  }

  healthy(): boolean {
    return this.ready && this.path.healthy();
  }

  async close(): Promise<void> {
    await this.path.queue.stop();
    await this.pool.end();
  }
}

/**
 * The tables retention prunes, and the columns that name one row of each (a kept event's
 * id is unique within its room only). Table and column names are ours, never input.
 */
const ROW_IDENTITY = { messages: 'id', room_events: 'room_key, id' } as const;

/** The ids of `entries` that `inserted` lacks, in order (duplicates within a batch too). */
function missing(entries: HistoryEntry[], inserted: Set<string>): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (inserted.has(e.id)) inserted.delete(e.id);
    else out.push(e.id);
  }
  return out;
}

/**
 * The tsquery for `terms` (https://www.postgresql.org/docs/current/datatype-textsearch.html):
 * each term a quoted lexeme (so no word is an operator: `&`, `|`, `!`, `<->`), `:*` for a
 * prefix from two characters on, all of them required. Terms hold only letters and digits
 * (search-terms.ts); quotes and backslashes are escaped all the same.
 */
export function tsQuery(terms: readonly string[]): string {
  return terms
    .map((t) => {
      const quoted = `'${t.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
      return isPrefixTerm(t) ? `${quoted}:*` : quoted;
    })
    .join(' & ');
}
