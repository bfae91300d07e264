/**
 * SQLite store (better-sqlite3): one file in the data directory, WAL mode, schema
 * migrations versioned in code. Chat messages go through the write queue (write-queue.ts)
 * and are inserted in one transaction per flush; everything else is written directly
 * (rare, and small).
 */
import Database from 'better-sqlite3';
import type { HistoryEntry } from '../core/events.js';
import type { AccountRecord, BanRecord, HistoryQuery, RoomRecord, Store } from '../core/ports.js';
import { fold } from '../core/names.js';
import { decodeFlags, encodeFlags } from './room-flags.js';
import { WriteQueue, type WriteQueueOptions } from './write-queue.js';

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
];

interface MessageRow {
  id: number;
  room: string;
  sender: string;
  mask: string;
  text: string;
  kind: string;
  ts: number;
}

export class SqliteStore implements Store {
  readonly name = 'sqlite';
  private db!: Database.Database;
  private readonly queue: WriteQueue<HistoryEntry>;
  private insert!: Database.Statement;
  private insertMany!: (entries: HistoryEntry[]) => void;

  constructor(
    private readonly file: string,
    queue: Partial<WriteQueueOptions> = {},
  ) {
    this.queue = new WriteQueue<HistoryEntry>((batch) => this.insertMany(batch), queue);
  }

  async init(): Promise<void> {
    this.db = new Database(this.file);
    this.db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a commit survives a process crash; only an OS crash can lose the last one.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.insert = this.db.prepare(
      'INSERT OR IGNORE INTO messages (id, room_key, room, sender, mask, text, kind, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertMany = this.db.transaction((entries: HistoryEntry[]) => {
      for (const e of entries) {
        this.insert.run(BigInt(e.id), fold(e.room), e.room, e.from, e.mask, e.text, e.kind, e.ts);
      }
    });
    this.queue.start();
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

  appendMessage(entry: HistoryEntry): void {
    this.queue.push(entry);
  }

  /** Messages accepted but not yet written (for back-pressure and metrics). */
  backlog(): number {
    return this.queue.size;
  }

  async history(query: HistoryQuery): Promise<HistoryEntry[]> {
    // Reads must see what was shown: write out anything still queued first.
    await this.queue.flush();
    const rows = (
      query.before !== undefined
        ? this.db
            .prepare(
              'SELECT * FROM messages WHERE room_key = ? AND id < ? ORDER BY id DESC LIMIT ?',
            )
            .all(fold(query.room), BigInt(query.before), query.limit)
        : this.db
            .prepare('SELECT * FROM messages WHERE room_key = ? ORDER BY id DESC LIMIT ?')
            .all(fold(query.room), query.limit)
    ) as MessageRow[];
    return rows.reverse().map((r) => ({
      id: String(r.id),
      ts: r.ts,
      room: r.room,
      from: r.sender,
      mask: r.mask,
      text: r.text,
      kind: r.kind as HistoryEntry['kind'],
    }));
  }

  async getAccount(name: string): Promise<AccountRecord | null> {
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
    const r = this.db
      .prepare(
        'INSERT OR IGNORE INTO accounts (name_key, name, password_hash, created_at, last_seen) VALUES (?, ?, ?, ?, ?)',
      )
      .run(fold(a.name), a.name, a.passwordHash, a.createdAt, a.lastSeen);
    return r.changes === 1;
  }

  touchAccount(name: string, ts: number): void {
    this.db.prepare('UPDATE accounts SET last_seen = ? WHERE name_key = ?').run(ts, fold(name));
  }

  saveRoom(r: RoomRecord): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO rooms (name_key, name, topic, topic_by, topic_at, modes, room_key, room_limit, owner)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        fold(r.name),
        r.name,
        r.topic,
        r.topicBy,
        r.topicAt,
        encodeFlags(r.flags),
        r.key,
        r.limit,
        r.owner,
      );
  }

  async loadRooms(): Promise<RoomRecord[]> {
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
    this.db
      .prepare(
        `INSERT OR REPLACE INTO bans (room_key, room, mask_key, mask, kind, reason, set_by, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        fold(b.room),
        b.room,
        fold(b.mask),
        b.mask,
        b.kind,
        b.reason,
        b.setBy,
        b.createdAt,
        b.expiresAt,
      );
  }

  deleteBan(room: string, mask: string, kind: 'ban' | 'mute'): void {
    this.db
      .prepare('DELETE FROM bans WHERE room_key = ? AND mask_key = ? AND kind = ?')
      .run(fold(room), fold(mask), kind);
  }

  async loadBans(): Promise<BanRecord[]> {
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

  async getSetting(key: string): Promise<string | null> {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as
      { value: string } | undefined;
    return row?.value ?? null;
  }

  setSetting(key: string, value: string): void {
    this.db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run(key, value);
  }

  async prune(maxAgeMs: number, maxCount: number, room?: string): Promise<number> {
    await this.queue.flush();
    const where = room === undefined ? '' : ' AND room_key = @room';
    const params = {
      room: room === undefined ? null : fold(room),
      cutoff: Date.now() - maxAgeMs,
      keep: maxCount,
    };
    let removed = 0;
    if (maxAgeMs > 0) {
      removed += this.db
        .prepare(`DELETE FROM messages WHERE ts < @cutoff${where}`)
        .run(params).changes;
    }
    if (maxCount > 0) {
      removed += this.db
        .prepare(
          `DELETE FROM messages WHERE id IN (
             SELECT id FROM (
               SELECT id, ROW_NUMBER() OVER (PARTITION BY room_key ORDER BY id DESC) AS n
               FROM messages WHERE 1 = 1${where}
             ) WHERE n > @keep)`,
        )
        .run(params).changes;
    }
    return removed;
  }

  healthy(): boolean {
    return this.db?.open === true;
  }

  async close(): Promise<void> {
    await this.queue.stop();
    if (this.db?.open) this.db.close();
  }
}
