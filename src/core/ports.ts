/**
 * The interfaces the core needs from the outside world. Transports implement Connection,
 * protocols implement Encoder, src/cluster implements Bus, src/store implements Store.
 * The core imports none of those implementations.
 */
import type { ChatEvent, EventEntry, HistoryEntry } from './events.js';
import type { RoomFlag } from './room-changes.js';
import type { BanEntry, RemoteMember } from './room.js';
import type { Session } from './session.js';

/**
 * The send limit of a connection nobody has limited yet (Connection.limitSendQueue), for
 * implementations to start with: larger than any queue a process can hold, and a small
 * integer, which V8 keeps in the object itself (Infinity would be a 16-byte box per
 * connection).
 */
export const NO_SEND_LIMIT = 0x7fff_ffff;

/** One client connection as the core sees it: bytes out, flow control, close. */
export interface Connection {
  readonly remoteAddress: string;
  /** Wire protocol name, e.g. 'line', 'irc', 'framed', 'ws' (for stats and metrics). */
  readonly protocol: string;
  /** True once the connection is encrypted (TLS), for protocols that report it. */
  readonly secure: boolean;
  /**
   * Queues bytes for sending; never blocks. Every byte counts against the send limit
   * (see `limitSendQueue`), whoever writes it: past the limit the bytes are dropped and
   * the connection's overflow handler runs, once.
   */
  write(data: Buffer): void;
  /** Bytes accepted by write() but not yet handed to the kernel, this turn's included. */
  pendingBytes(): number;
  /**
   * Bounds what may wait for this connection: a write that would take `pendingBytes()`
   * past `bytes` is dropped and `onOverflow(owner)` is called (once). Set by the hub on
   * attach. A handler and its argument rather than a closure: one handler serves every
   * connection, where a closure each cost ~100 bytes per idle connection.
   */
  limitSendQueue<T>(bytes: number, onOverflow: (owner: T) => void, owner: T): void;
  /** Calls `cb` once everything queued has been handed to the kernel (pacing replies). */
  whenDrained(cb: () => void): void;
  /**
   * --ack-after-commit (core/commit-order.ts): holds everything written from now on until
   * `commit` settles, so the caller need not wait for it before the next request. False
   * (or absent): the connection cannot, and the caller waits for the commit itself.
   */
  holdUntil?(commit: Promise<void>): boolean;
  /** Stop / restart reading input (inbound flow control). */
  pause(): void;
  resume(): void;
  /**
   * Sends what is queued and then `last` (bytes past the send limit are allowed here:
   * the reason a connection is closed), then closes. The transport frees the socket after
   * a short linger even if the peer never closes its side. `reason` is what transports
   * with close reasons (WebSocket) say.
   */
  end(last?: Buffer | null, reason?: string): void;
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
  /**
   * Last bytes before the server closes a connection (IRC `ERROR`), or null. `shutdown`
   * when the server is stopping and the recipient has just been told so (the shutdown
   * event): protocols that said it already need not say it again.
   */
  farewell?(reason: string, recipient: Session, shutdown?: boolean): Buffer | null;
  /**
   * True when others' `bulk` joins, parts and quits encode to nothing (the recipient sees
   * the room's roster digest instead): the hub then need not visit such members for them.
   */
  readonly skipsBulkRoster?: boolean;
}

/** Where an event must go: the nodes with members in these rooms, these nodes, or all. */
export interface BusRoute {
  rooms?: readonly string[];
  nodes?: readonly string[];
  everyone?: boolean;
}

/** What the core gives the bus: delivery of events, in order, and news of lost ones. */
export interface BusSink {
  /**
   * One event, in order. A sequencing bus (Redis) also says where the room's stream has
   * it (`offset` within `epoch`), so a join can remember where its live messages begin.
   */
  deliver(event: ChatEvent, offset?: number, epoch?: string): void;
  /**
   * Events from `origin` on `channel` were lost in transit (`missed` of them; -1: the
   * room's history was lost by the shared store, its epoch changed).
   */
  gap(origin: string, channel: string, missed: number): void;
  /** The bus can no longer deliver everything (a store away), or can again. */
  status?(healthy: boolean, reason: string): void;
  /**
   * A sequencing bus: a room's epoch changed under this node's replica (`channel` its
   * room's). When nobody here is in the room yet (only joins on their way), the core takes
   * the room's snapshot again, rebuilds the replica from it and resumes the room's events
   * after it; the promise settles then. Else null: the history was lost (`gap` -1).
   */
  retake?(channel: string): Promise<void> | null;
}

/**
 * Carries events between the nodes (processes) serving one chat. `emit` sends an event to
 * every node that needs it, this one included: each node delivers it once, in order per
 * origin. The returned promise settles once this node has delivered it (or rejects when it
 * cannot be sent at all; a sequencing bus rejects a join with RoomChangedError when the
 * room changed under the replica it was checked against); nothing may assume that happens
 * inside the call.
 */
export interface Bus {
  readonly name: string;
  /** This node's id (see ids.ts). */
  readonly nodeId: string;
  /** This node's slot for message ids, 0-999 (ids.ts). */
  readonly nodeNumber: number;
  start(sink: BusSink): Promise<void>;
  emit(event: ChatEvent, route: BusRoute): Promise<void>;
  /** This node has members in `room` (by folded name) and wants its events, or no longer. */
  watch(room: string): void;
  unwatch(room: string): void;
  /**
   * A watched room was renamed (folded names): its events come on under `to`, in the
   * same order (a sequencing bus carries the room's offsets on). Without it, the core
   * unwatches `from` and watches `to`.
   */
  renamed?(from: string, to: string): void;
  /**
   * A bus that keeps rooms' shared state (Redis): the room as it is now, with the offset
   * that state reflects. After `watch` and before `resume`, the room's events are held.
   */
  snapshot?(room: string): Promise<RoomSnapshot>;
  /** Delivers a watched room's events from `at` on (the snapshot's offset + 1). */
  resume?(room: string, at: { epoch: string; next: number }): void;
  /**
   * A sequencing bus (Redis): the room messages of its hot window sequenced before offset
   * `before` of `epoch`, newest first, at most `count` (other events are passed over), and
   * `next`, the offset to go on before (0: nothing older is kept, or the room's epoch is
   * no longer `epoch`: that history went with Redis's data). A replay reads it for what
   * another node sent but has not written to the store yet.
   */
  messagesBefore?(
    room: string,
    epoch: string,
    before: number,
    count: number,
  ): Promise<{ messages: StreamEvent[]; next: number }>;
  /** True while the bus can deliver (readiness). */
  healthy(): boolean;
  close(): Promise<void>;
}

/** Where a sequencing bus put a room event: its offset within the room's epoch. */
export interface StreamPosition {
  epoch: string;
  offset: number;
}

/** An event of a room's stream, with its offset (Bus.messagesBefore). */
export interface StreamEvent {
  offset: number;
  event: ChatEvent;
}

/** A room as a shared store holds it, and the offset that state is at (Bus.snapshot). */
export interface RoomSnapshot {
  offset: number;
  epoch: string;
  /** topic, topicBy, topicAt, `flag:<name>` ('1'/'0'), key, limit, owner: absent = default. */
  state: Record<string, string>;
  /** Folded name → member. */
  members: [string, RemoteMember][];
  bans: BanEntry[];
  /** Folded name → until (null: until lifted). */
  mutes: [string, number | null][];
  invited: string[];
}

/** Someone online, as any node may show them (WHO, WHOIS, /who, member lists). */
export interface PersonInfo {
  name: string;
  user: string;
  /** The displayed host (core/hosts.ts: an operator may have changed it). */
  host: string;
  /**
   * The connection's real address, when known (this node's sessions, and a cluster's shared
   * presence); for WHOIS 378, which only the person and operators see.
   */
  address?: string;
  realname: string;
  account: string | null;
  away: string | null;
  oper: boolean;
  /** A declared bot (IRC user mode +B). */
  bot: boolean;
  /** IRC user mode +i: shown only to those who share a room. */
  invisible: boolean;
  secure: boolean;
  protocol: string;
  /** Session id (node-qualified). */
  origin: string;
  connectedAt: number;
  lastActive: number;
  /** Rooms they are in (names as spelled), for WHOIS. */
  rooms: string[];
}

/** A member of a room with their roles. */
export interface MemberInfo {
  person: PersonInfo;
  op: boolean;
  voice: boolean;
}

export type ClaimMode = 'tentative' | 'register' | 'force';

/**
 * What a claim can show to take a name held for someone who left (Presence.hold): the
 * session that held it (from a verified resume token), or the address they came from
 * (protocols that cannot carry a token: telnet, IRC).
 */
export interface HoldProof {
  session?: string;
  address?: string;
}

export interface ClaimResult {
  /** `origin` holds the name now (also when it already did). */
  ok: boolean;
  /** The session that lost the name to this claim. */
  displaced?: string;
}

/** A room as room lists show it. */
export interface RoomInfo {
  name: string;
  topic: string;
  members: number;
  secret: boolean;
}

/**
 * Who is online and where: the one place protocols ask about other people (WHO, WHOIS,
 * NAMES, ISON, LUSERS, JSON `who`/`rooms`, `/who`, `/rooms`), never other users'
 * Session objects. In-process by default (presence.ts); shared across nodes in a cluster.
 */
export interface Presence {
  /**
   * Claims a name for the session `origin`; of two concurrent claims of one name exactly
   * one wins. A session still registering claims 'tentative'ly: one that completes
   * registration ('register') or proved the account's password ('force') takes the name
   * over from a tentative holder ('force': from anyone), which is then `displaced`.
   */
  claim(name: string, origin: string, mode: ClaimMode, proof?: HoldProof): Promise<ClaimResult>;
  /** Gives the name up, if `origin` holds it. */
  release(name: string, origin: string): void;
  /**
   * `origin` left without quitting (a dropped connection, a shutdown): instead of being
   * released, its name is held for `ms` for that person. Meanwhile only a claim whose proof
   * names `origin` or comes from `address`, or a 'force' claim (the account's password),
   * takes it; the hold then ends. Holds outlive this process (the store or Redis keeps them).
   */
  hold(name: string, origin: string, address: string, ms: number): void;
  /** The session holding `name`, or null. */
  holder(name: string): Promise<string | null>;
  /** Someone online (registered) by name, or null. */
  lookup(name: string): Promise<PersonInfo | null>;
  /** Everyone online (registered). */
  people(): Promise<PersonInfo[]>;
  /** The members of a room, or null when there is no such room. */
  members(room: string): Promise<MemberInfo[] | null>;
  /** Every room that has members. */
  rooms(): Promise<RoomInfo[]>;
  /** Counts for LUSERS and metrics. */
  counts(): Promise<{ users: number; invisible: number; opers: number; rooms: number }>;
  /** Shared presence: one of this node's sessions registered or changed (write it). */
  online?(origin: string): void;
  /** Shared presence: one of this node's sessions is gone. */
  offline?(origin: string): void;
  /** Shared presence: this node holds a room (room lists show it). */
  listRoom?(room: string, name: string): void;
  /** Shared presence: the nodes, their users, and how long the shared store takes to answer. */
  cluster?(): Promise<{ nodes: { node: string; users: number }[]; roundTripMs: number }>;
}

/** History paging request. */
export interface HistoryQuery {
  room: string;
  limit: number;
  /** Only entries older than this message id. */
  before?: string;
  /** Only entries newer than this message id. */
  after?: string;
  /**
   * Which end of the range `limit` keeps: 'newest' (the page that ends at `before`, or at
   * the newest message) or 'oldest' (the page that starts just after `after`). Default:
   * 'oldest' when `after` is given, 'newest' otherwise. Entries come oldest first either way.
   */
  keep?: 'oldest' | 'newest';
}

/** Which conversations have history (IRCv3 CHATHISTORY TARGETS). */
export interface ConversationsQuery {
  /** Rooms (names or folded) to consider: the caller has checked the asker may read them. */
  rooms: readonly string[];
  /** Also the private conversations of this account (see messaging.ts directKey), if set. */
  account?: string;
  /** Only conversations whose newest message has `after < ts < before` (ms). */
  after: number;
  before: number;
  /** At most this many, those with the oldest newest message first. */
  limit: number;
}

/** A conversation and its newest message. */
export interface Conversation {
  /** The room, or a private conversation's key (`@a b`), as stored. */
  room: string;
  /** The newest message's id and time. */
  id: string;
  ts: number;
}

/**
 * How far an account has read in one room or private conversation (IRCv3 read-marker).
 * `id` is a message id (ids.ts), or the first id of a millisecond's range for a marker
 * set by time; it only ever grows.
 */
export interface ReadMarker {
  /** The room name, or the other person's name for a private conversation. */
  target: string;
  id: string;
}

/**
 * A full-text search (core/search.ts builds it): messages with every term, in the rooms
 * given and, with `account`, that account's private conversations, newest first.
 */
export interface SearchQuery {
  /** Words of letters and digits only (core/search-terms.ts), lower-cased. */
  terms: string[];
  /** Rooms to look in, as named (the store folds them). */
  rooms: string[];
  /** Also the private conversations of this account (directKey), or null. */
  account: string | null;
  /** Most entries returned. */
  limit: number;
  /** Only entries older than this message id. */
  before?: string;
  /**
   * Most matches (in any room) one request looks at, newest first: the bound on its work.
   * A page can end short of `limit` because of it; `next` then says where to go on.
   */
  scan: number;
}

/** One page of a search. */
export interface SearchPage {
  /** Newest first. */
  entries: HistoryEntry[];
  /** The `before` of the next (older) page, or null when there is nothing older. */
  next: string | null;
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
  /** The room's flags that are on (see RoomFlag); key and limit are separate. */
  flags: RoomFlag[];
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

/**
 * A room rename as the store remembers it (core/rename.ts): where an old name went, for
 * resuming clients, reading positions and `--rename-grace`. One per old name.
 */
export interface RenameRecord {
  /** The old name, folded (names.ts). */
  from: string;
  /** The new name, as spelled. */
  to: string;
  /** When (ms: the rename event's time). */
  at: number;
  /** Who renamed it (a name, or the server's). */
  by: string;
  reason: string;
}

/** A store's write figures, for metrics and the admin console. */
export interface StoreStats {
  /** Writes committed (messages and small writes). */
  written: number;
  /** Commits (transactions) that wrote them: `written / commits` is the batch size. */
  commits: number;
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
  /**
   * Keeps a room event for IRCv3 event playback (core/event-history.ts says which), in a
   * table of its own that no message read looks at. Queued like the small writes: nothing
   * waits for it. Absent: the store keeps no events.
   */
  appendEvent?(entry: EventEntry): void;
  /** Kept events of `query.room`, paged exactly as history() pages messages. */
  events?(query: HistoryQuery): Promise<EventEntry[]>;
  /**
   * Deletes kept events older than maxAgeMs and beyond the newest maxCount per room (0: no
   * limit), in one room or in all; returns how many. prune() also applies its limits here.
   */
  pruneEvents?(maxAgeMs: number, maxCount: number, room?: string): Promise<number>;
  /**
   * Full-text search of what is written (SQLite FTS5, PostgreSQL text search, a word
   * match in memory). Never throws for any terms search-terms.ts lets through.
   */
  search(query: SearchQuery): Promise<SearchPage>;
  /** Conversations with history, as ConversationsQuery says, oldest newest message first. */
  conversations(query: ConversationsQuery): Promise<Conversation[]>;
  /** An account's read markers (all of them: one per room and conversation it marked). */
  readMarkers(account: string): Promise<ReadMarker[]>;
  /**
   * Moves an account's marker for `target` forward to `id` (queued like other small
   * writes; a smaller id than the one stored changes nothing).
   */
  saveReadMarker(account: string, marker: ReadMarker): void;
  /**
   * Resume: the entries of `room` with an id greater than `after`, oldest first, at most
   * `limit` (the first ones after it).
   */
  messagesAfter(room: string, after: string, limit: number): Promise<HistoryEntry[]>;
  /** Resume: how many entries of `room` have an id greater than `after`. */
  countAfter(room: string, after: string): Promise<number>;
  /** The account called `name` (case-insensitively), or null. */
  getAccount(name: string): Promise<AccountRecord | null>;
  /** Creates an account; false when the name is taken. */
  createAccount(account: AccountRecord): Promise<boolean>;
  /** Records that the account was used (fire-and-forget). */
  touchAccount(name: string, ts: number): void;
  /** Saves (inserts or replaces) a room's record. */
  saveRoom(room: RoomRecord): void;
  loadRooms(): Promise<RoomRecord[]>;
  /**
   * A room was renamed (core/rename.ts): its messages, record, bans and mutes, and every
   * account's read marker for it move to `to` (which differs from `from` perhaps only in
   * case). Queued like other writes, in order: messages queued before move too. Nothing
   * is kept under `to` when this is called (the rename checks), so no rows merge.
   */
  renameRoom(from: string, to: string): void;
  /**
   * Remembers a rename (queued like other small writes): one row per old name, written on
   * its own, so renames recorded at once (by several nodes of a cluster) all stay; a later
   * rename of that name replaces an earlier one, never the reverse (a write that lands
   * late changes nothing). Only the newest `keep` (by time) are kept, give or take those
   * of one millisecond.
   */
  saveRename(rename: RenameRecord, keep: number): void;
  /** The newest `limit` renames remembered, oldest first. */
  renames(limit: number): Promise<RenameRecord[]>;
  /** The rename remembered of the old name `from` (folded), or null. */
  renamedFrom(from: string): Promise<RenameRecord | null>;
  /** Saves (inserts or replaces, keyed by room, mask and kind) a ban or mute. */
  saveBan(ban: BanRecord): void;
  deleteBan(room: string, mask: string, kind: 'ban' | 'mute'): void;
  /** Bans and mutes that have not expired. */
  loadBans(): Promise<BanRecord[]>;
  /**
   * Retention: deletes messages older than maxAgeMs and beyond the newest maxCount per room
   * (0: no limit), in one room or, without `room`, in every room; returns how many messages
   * (kept events go by the same limits, pruneEvents, and are not counted).
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
  /**
   * Housekeeping: deletes the settings whose key starts with `prefix` and whose value
   * `stale` says is stale; returns how many. A value written meanwhile is kept.
   */
  pruneSettings?(prefix: string, stale: (value: string) => boolean): Promise<number>;
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
  /**
   * `owner` is handed back to the handler: a protocol passes one shared function and its
   * connection rather than a closure each (a closure pair and its context cost every idle
   * connection ~150 bytes).
   */
  onData<T = undefined>(handler: (data: Buffer, owner: T) => void, owner?: T): void;
  onClose<T = undefined>(handler: (reason: string, owner: T) => void, owner?: T): void;
}
