/**
 * The interfaces the core needs from the outside world. Transports implement Connection,
 * protocols implement Encoder, src/cluster implements Bus, src/store implements Store.
 * The core imports none of those implementations.
 */
import type { ChatEvent, HistoryEntry } from './events.js';
import type { Session } from './session.js';

/** One client connection as the core sees it: bytes out, flow control, close. */
export interface Connection {
  readonly remoteAddress: string;
  /** Wire protocol name, e.g. 'line', 'irc', 'framed', 'ws' (for stats and metrics). */
  readonly protocol: string;
  /** True once the connection is encrypted (TLS), for protocols that report it. */
  readonly secure: boolean;
  /** Queue bytes for sending. Never blocks; writes in one loop turn are coalesced. */
  write(data: Buffer): void;
  /** Bytes accepted by write() but not yet handed to the kernel. */
  pendingBytes(): number;
  /** Stop / restart reading input (inbound flow control). */
  pause(): void;
  resume(): void;
  /** Send what is queued (bounded by the caller's grace period), then close. */
  end(): void;
  /** Close now, dropping anything queued. */
  destroy(): void;
  /**
   * Called about once a second by the hub's sweep (protocol keepalives): one timer for
   * every connection instead of a timer each.
   */
  tick?(now: number): void;
}

/**
 * Turns core events into a protocol's bytes. `variant` names the exact encoding a
 * recipient needs; the hub encodes each distinct variant of an event once and hands the
 * same Buffer to every recipient that shares it. Variants must be globally unique strings
 * (prefix them with the protocol name).
 */
export interface Encoder {
  variant(event: ChatEvent, recipient: Session): string | null;
  encode(event: ChatEvent, recipient: Session): Buffer | null;
  /** Last bytes before the server closes a connection (IRC `ERROR`), or null. */
  farewell?(reason: string, recipient: Session): Buffer | null;
  /**
   * True when others' `bulk` joins, parts and quits encode to nothing (the recipient sees
   * the room's roster digest instead): the hub then need not visit such members for them.
   */
  readonly skipsBulkRoster?: boolean;
}

/** Delivers events to every node (process) serving this chat, this one included. */
export interface Bus {
  readonly name: string;
  start(deliver: (event: ChatEvent) => void): Promise<void>;
  publish(event: ChatEvent): void;
  /** True while the bus can deliver (readiness). */
  healthy(): boolean;
  close(): Promise<void>;
}

/** History paging request. */
export interface HistoryQuery {
  room: string;
  limit: number;
  /** Only entries older than this message id. */
  before?: string;
}

/** A registered account. */
export interface AccountRecord {
  name: string;
  /** scrypt hash, as core/passwords.ts writes it. */
  passwordHash: string;
  createdAt: number;
  lastSeen: number;
}

/** What outlives a room's last member: topic, modes, owner. */
export interface RoomRecord {
  name: string;
  topic: string;
  topicBy: string;
  topicAt: number;
  /** Flag modes as IRC letters, e.g. "nt" (key and limit are separate). */
  modes: string;
  key: string | null;
  limit: number;
  /** Account that claimed the room, or null. */
  owner: string | null;
}

/** A ban or mute, in a room or (room '*') server-wide. */
export interface BanRecord {
  room: string;
  mask: string;
  kind: 'ban' | 'mute';
  reason: string;
  setBy: string;
  createdAt: number;
  /** null: until lifted. */
  expiresAt: number | null;
}

/** A store's write figures, for metrics and the admin console. */
export interface StoreStats {
  /** Writes committed (messages and small writes). */
  written: number;
  /** Failed write attempts (each retry of a failing batch counts). */
  failed: number;
  /** Messages not written because their id was already stored (logged, never silent). */
  duplicates: number;
  /** Writes accepted but not yet committed. */
  backlog: number;
}

/**
 * Durable state. Writes are queued by the store (batched, in order, retried with backoff
 * while they fail, never dropped); reads are async.
 */
export interface Store {
  readonly name: string;
  init(): Promise<void>;
  /**
   * Queues a message for history. The promise resolves once it is committed (after the
   * commit, not before; later if writes fail and recover) and rejects only if it can
   * never be written (the store closed first). Callers may ignore it: a rejection is
   * never an unhandled one.
   */
  appendMessage(entry: HistoryEntry): Promise<void>;
  /** Entries oldest first, at most `limit`, ending just before `before` (or the newest). */
  history(query: HistoryQuery): Promise<HistoryEntry[]>;
  /** The account called `name` (case-insensitively), or null. */
  getAccount(name: string): Promise<AccountRecord | null>;
  /** Creates an account; false when the name is taken. */
  createAccount(account: AccountRecord): Promise<boolean>;
  /** Records that the account was used (fire-and-forget). */
  touchAccount(name: string, ts: number): void;
  /** Saves (inserts or replaces) a room's record. */
  saveRoom(room: RoomRecord): void;
  loadRooms(): Promise<RoomRecord[]>;
  /** Saves (inserts or replaces, keyed by room, mask and kind) a ban or mute. */
  saveBan(ban: BanRecord): void;
  deleteBan(room: string, mask: string, kind: 'ban' | 'mute'): void;
  /** Bans and mutes that have not expired. */
  loadBans(): Promise<BanRecord[]>;
  /**
   * Retention: deletes messages older than maxAgeMs and beyond the newest maxCount per room
   * (0: no limit), in one room or, without `room`, in every room.
   */
  prune?(maxAgeMs: number, maxCount: number, room?: string): Promise<number>;
  /** Messages accepted but not yet written. */
  backlog?(): number;
  /**
   * False while writes fail or the write queue is full: the hub refuses new messages
   * rather than lose them (healthy() tells the two apart).
   */
  writable?(): boolean;
  /** Write figures (metrics). */
  stats?(): StoreStats;
  /**
   * Hears each change of health: false with a short reason for people ("the disk is
   * full") when writes start failing, true when a write succeeds again. Called in a later
   * turn than the change, once per change.
   */
  onHealthChange?(listener: (healthy: boolean, reason: string) => void): void;
  getSetting(key: string): Promise<string | null>;
  setSetting(key: string, value: string): void;
  /** False while writes fail (readiness). */
  healthy(): boolean;
  /** Flush pending writes and release resources. */
  close(): Promise<void>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The logging the core needs; pino satisfies it. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/**
 * A Connection as a protocol sees it: the transport also delivers input (a chunk of bytes
 * for stream transports, one whole message for WebSocket) and tells when it closed.
 */
export interface Link extends Connection {
  onData(handler: (data: Buffer) => void): void;
  onClose(handler: (reason: string) => void): void;
}
