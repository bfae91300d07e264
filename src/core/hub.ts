/**
 * The hub: the façade every protocol talks to. It composes the core's modules — identity
 * (names, registration, leaving), membership (rooms), messaging, moderation, accounts,
 * housekeeping — around the shared context (context.ts), and is the bus's sink: each
 * event, this node's own included, arrives here once, is applied to the room replicas and
 * delivered to this node's sessions. It never touches a socket: it sees Connections and
 * Encoders (ports.ts).
 *
 * Nothing here relies on the bus delivering inside `emit`: an operation's promise settles
 * once its event has been applied and delivered here, and the replies that must follow an
 * event (a JSON `ok`, IRC NAMES after JOIN) are sent by code that awaits it.
 */
import { Accounts } from './accounts.js';
import type { Core } from './context.js';
import { Counters } from './counters.js';
import { ChatError, ErrorCode, RoomChangedError } from './errors.js';
import type { ChatEvent } from './events.js';
import { Fanout } from './fanout.js';
import { Housekeeping } from './housekeeping.js';
import { Identity } from './identity.js';
import { Membership } from './membership.js';
import { Messaging, type NoticeOptions } from './messaging.js';
import { ReadMarkers } from './read-markers.js';
import { Moderation } from './moderation.js';
import type { ServerOptions } from './options.js';
import type {
  Bus,
  BusRoute,
  Clock,
  Connection,
  Encoder,
  Logger,
  Presence,
  Store,
} from './ports.js';
import { silentLogger, systemClock } from './ports.js';
import { LocalPresence, type NameHold } from './presence.js';
import { Renames } from './rename.js';
import { Resume } from './resume.js';
import { Retention } from './retention.js';
import { Hosts } from './hosts.js';
import { keepRows, prepareKept } from './event-history.js';
import { RoomStates } from './room-state.js';
import { Rooms } from './rooms.js';
import type { Session } from './session.js';
import { Sessions } from './sessions.js';
import { Watchlist } from './watchlist.js';

/** Where a single node keeps, across a restart, the names it held for people (Presence.hold). */
const HOLDS_SETTING = 'name-holds';

function parseHolds(raw: string | null): NameHold[] {
  if (raw === null) return [];
  try {
    const list = JSON.parse(raw) as unknown;
    if (!Array.isArray(list)) return [];
    return list.filter(
      (h): h is NameHold =>
        typeof h === 'object' &&
        h !== null &&
        typeof (h as NameHold).name === 'string' &&
        typeof (h as NameHold).origin === 'string' &&
        typeof (h as NameHold).address === 'string' &&
        typeof (h as NameHold).until === 'number',
    );
  } catch {
    return [];
  }
}

/** What a deployment adds to the core (a cluster's shared presence and its leases). */
export interface HubExtras {
  /** A presence shared by every node, instead of this node's own. */
  presence?: (hub: Hub) => Presence;
  /** Runs at shutdown after every session left, before the bus closes. */
  beforeBusClose?: () => Promise<void>;
}

export class Hub implements Core {
  readonly counters = new Counters();
  readonly nodeId: string;
  readonly startedAt: number;
  readonly sessions: Sessions;
  readonly rooms: Rooms;
  readonly roomStates: RoomStates;
  readonly localPresence: LocalPresence;
  readonly presence: Presence;
  readonly fanout: Fanout;
  readonly watchlist: Watchlist;
  readonly retention: Retention;
  readonly identity: Identity;
  readonly membership: Membership;
  readonly messaging: Messaging;
  readonly readMarkers: ReadMarkers;
  readonly moderation: Moderation;
  /** Displayed hosts (IRC CHGHOST). */
  readonly hosts: Hosts;
  readonly accounts: Accounts;
  readonly resume: Resume;
  readonly renames: Renames;
  private readonly housekeeping: Housekeeping;
  private stopping = false;

  constructor(
    readonly options: ServerOptions,
    readonly store: Store,
    readonly bus: Bus,
    readonly log: Logger = silentLogger,
    readonly clock: Clock = systemClock,
    private readonly extras: HubExtras = {},
  ) {
    this.nodeId = bus.nodeId;
    this.startedAt = clock.now();
    this.sessions = new Sessions(this.nodeId, this.counters, clock);
    this.roomStates = new RoomStates(store);
    this.rooms = new Rooms(this.nodeId, options, this.sessions, this.roomStates, bus);
    this.localPresence = new LocalPresence(this.sessions, this.rooms, clock);
    this.presence = extras.presence?.(this) ?? this.localPresence;
    // Shared presence is kept current from this node's sessions and rooms.
    if (this.presence.online) {
      const presence = this.presence;
      this.sessions.onChange = (s) => presence.online?.(s.id);
      this.rooms.listed = (room, name) => presence.listRoom?.(room, name);
    }
    this.watchlist = new Watchlist(() => options.watchLimit);
    this.fanout = new Fanout(this.sessions, this.rooms, this.counters, this.watchlist);
    this.retention = new Retention(
      store,
      { maxAgeMs: options.retentionMaxAgeMs, maxCount: options.retentionMaxCount },
      log,
      options.retentionIntervalMs,
      options.eventHistory,
    );
    this.resume = new Resume(this);
    this.retention.also('reading positions', () => this.resume.pruneSeen());
    this.identity = new Identity(this);
    this.membership = new Membership(this);
    this.messaging = new Messaging(this);
    this.readMarkers = new ReadMarkers(this);
    this.moderation = new Moderation(this, this.identity);
    this.hosts = new Hosts(this);
    this.renames = new Renames(this);
    this.accounts = new Accounts(this, {
      rename: (s, name) => this.setName(s, name),
      end: (target, reason) => this.moderation.end(target, reason),
      notice: (text, opts) => this.messaging.notice(text, opts),
    });
    this.housekeeping = new Housekeeping(this, this.accounts);
  }

  async start(): Promise<void> {
    await this.store.init();
    await this.resume.start();
    if (this.presence === this.localPresence) {
      // Names held when the last run stopped are still held (for what is left of their time).
      this.localPresence.restoreHeld(parseHolds(await this.store.getSetting(HOLDS_SETTING)));
    }
    this.identity.serverBans.push(...(await this.roomStates.load()));
    const motd = await this.store.getSetting('motd');
    if (motd !== null) this.options.motd = motd.split('\n');
    await this.retention.start();
    await this.bus.start({
      deliver: (event, offset, epoch) => this.deliver(event, offset, epoch),
      gap: (origin, channel, missed) => this.lost(channel, missed, origin),
      status: (healthy, reason) => this.busStatus(healthy, reason),
      retake: (channel) => this.retake(channel),
    });
    // The store failing (a full disk, a database gone) is news for everyone: messages are
    // refused meanwhile (store_unavailable), and people should know why and when it ends.
    this.store.onHealthChange?.((healthy, reason) => {
      this.notice(
        healthy
          ? 'The chat is back: messages are saved again'
          : `The chat is degraded: messages cannot be saved (${reason}); sending is paused`,
      ).catch((err: unknown) => this.log.warn({ err }, 'store notice not sent'));
    });
    this.housekeeping.start();
  }

  // ---- the bus's sink ------------------------------------------------------------------

  /** Events lost in transit, or a room's history lost by the shared store: say so. */
  private lost(channel: string, missed: number, origin: string): void {
    this.counters.busGaps += Math.max(missed, 1);
    this.log.warn({ origin, channel, missed }, 'events lost in transit');
    const room = channel.startsWith('r:') ? this.rooms.get(channel.slice(2)) : undefined;
    if (!room) return;
    const text =
      missed < 0
        ? `Some history of ${room.name} is no longer available (the cluster's store lost it)`
        : `${missed} event${missed === 1 ? '' : 's'} in ${room.name} could not be delivered here`;
    this.fanout.deliver({
      type: 'notice',
      ts: this.clock.now(),
      origin: this.nodeId,
      text,
      room: room.name,
    });
  }

  /**
   * A room's epoch changed before anyone here was in it: read again, not reported lost
   * (Rooms.retake). Null: someone here is in it, and `lost` tells them.
   */
  private retake(channel: string): Promise<void> | null {
    if (!channel.startsWith('r:')) return null;
    const taking = this.rooms.retake(channel.slice(2));
    if (taking) {
      this.log.info({ channel }, 'a room changed epoch before anyone here was in it: read again');
      // Whoever waits on it (a join) hears of a failure; the bus's own call does not wait.
      taking.catch((err: unknown) => this.log.warn({ err, channel }, 'room not read again'));
    }
    return taking;
  }

  /**
   * The bus cannot reach the other nodes (or can again): everyone here is told, since
   * sending is refused meanwhile. Local only: the other nodes cannot be reached.
   */
  private busStatus(healthy: boolean, reason: string): void {
    if (!healthy) this.counters.busOutages++;
    this.log.warn({ healthy, reason }, healthy ? 'bus back' : 'bus unavailable');
    this.fanout.deliver({
      type: 'notice',
      ts: this.clock.now(),
      origin: this.nodeId,
      text: healthy
        ? 'The chat is whole again: messages reach everyone'
        : `The chat is degraded: the other servers cannot be reached (${reason}); sending is paused`,
    });
  }

  emit(event: ChatEvent, route: BusRoute): Promise<void> {
    // Only here, on the node that emits it, is an event kept (once for the whole cluster).
    const kept = prepareKept(this, event, (ts) => this.messaging.newId(ts));
    const sent = this.bus.emit(event, route);
    return (kept === null ? sent : sent.then(() => keepRows(this, kept))).catch((err: unknown) => {
      // A join sent again after the room was read again (membership.ts) is not an outage.
      if (err instanceof ChatError || err instanceof RoomChangedError) throw err;
      this.log.warn({ err, type: event.type }, 'event not sent');
      throw new ChatError(
        ErrorCode.BusUnavailable,
        'The chat cannot reach its other servers right now; try again shortly',
      );
    });
  }

  /**
   * One event, once, in order: applied to the replicas and delivered to this node's
   * sessions. Who is told before and who after the change is decided here: a joiner sees
   * their own JOIN, a kicked member is told before being removed, a renamed person's
   * "you are now known as" goes to the new name.
   */
  private deliver(event: ChatEvent, offset?: number, epoch?: string): void {
    try {
      switch (event.type) {
        case 'quit':
          // Shutting down: every local session is going, there is no one here to tell
          // (and telling each of N members about N quits would be N² work).
          if (this.stopping) {
            this.rooms.apply(event);
            return;
          }
          this.fanout.deliver(event);
          this.rooms.apply(event);
          return;
        case 'left':
        case 'kick':
          this.fanout.deliver(event);
          this.rooms.apply(event);
          return;
        case 'nick': {
          const s = this.sessions.get(event.origin);
          if (s && !s.closed) this.identity.renamed(s, event.newName);
          this.rooms.apply(event);
          this.fanout.deliver(event);
          if (s && !s.closed) void this.accounts.checkName(s).catch(() => {});
          return;
        }
        case 'away': {
          const s = this.sessions.get(event.origin);
          if (s) {
            s.away = event.message;
            this.sessions.changed(s);
          }
          this.rooms.apply(event);
          this.fanout.deliver(event);
          return;
        }
        case 'realname': {
          const s = this.sessions.get(event.origin);
          if (s) {
            s.realname = event.realname;
            this.sessions.changed(s);
          }
          this.rooms.apply(event);
          this.fanout.deliver(event);
          return;
        }
        case 'kill': {
          const s = this.sessions.get(event.target);
          if (s) {
            s.closeReason = event.reason;
            s.holdName = false;
            this.disconnect(s, event.reason);
          }
          return;
        }
        case 'serverban':
          this.moderation.applyServerBan(event);
          return;
        case 'sethost':
          this.hosts.apply(event);
          return;
        case 'host':
          this.hosts.changed(event);
          this.rooms.apply(event);
          this.fanout.deliver(event);
          return;
        case 'rename':
          // Applied first: every protocol shows the room under its new name (IRC's
          // fallback JOIN and NAMES, the line protocol's current room).
          this.rooms.apply(event);
          this.renames.noteApplied(event);
          this.fanout.deliver(event);
          // Every node that applies it records it, not only the one that made it: that one
          // may die before its own rename reaches it (a cluster's step 2 is the rename for
          // everyone), and the record is where the other nodes learn where the name went.
          // One row per old name, the same from each (an idempotent upsert).
          this.renames.remember(event);
          return;
        default:
          this.rooms.apply(event, offset, epoch);
          this.fanout.deliver(event);
      }
    } catch (err) {
      // A bug in applying one event must not stop the bus or the next event.
      this.counters.handlerErrors++;
      this.log.error({ err, type: event.type }, 'event delivery failed');
    }
  }

  // ---- connections ---------------------------------------------------------------------

  /**
   * The hub's own reasons to refuse a new connection (shutting down, a server ban), or
   * null. Connection counts and their limits are the listeners' (core/admission.ts): they
   * count a socket until its descriptor is closed, which is after disconnect().
   */
  admit(address: string): string | null {
    if (this.stopping) return 'server shutting down';
    const ban = this.identity.serverBan(`*!*@${address}`);
    if (ban) return `banned from this server${ban.reason ? `: ${ban.reason}` : ''}`;
    return null;
  }

  attach(conn: Connection, encoder: Encoder): Session {
    const s = this.sessions.add(conn, encoder);
    // The bound belongs to the connection: whatever writes to it, past the limit the
    // writer's bytes are dropped and the reader is evicted.
    conn.limitSendQueue(this.options.sendQueueBytes, this.evictOne, s);
    this.log.debug({ id: s.id, protocol: conn.protocol, address: conn.remoteAddress }, 'connect');
    return s;
  }

  disconnect(s: Session, reason: string): void {
    if (this.sessions.get(s.id) !== s) return;
    this.accounts.forget(s);
    this.identity.disconnect(s, reason);
  }

  /** evict() as the one overflow handler every connection shares (Connection.limitSendQueue). */
  private readonly evictOne = (s: Session): void => this.evict(s);

  /** A reader that fell behind: it stops receiving at once, others never wait. */
  private evict(s: Session): void {
    if (s.closed) return;
    s.closed = true;
    s.closeReason = 'send queue exceeded';
    this.counters.sendQueueEvictions++;
    this.log.warn(
      { id: s.id, name: s.name, pending: s.conn.pendingBytes() },
      'send queue exceeded',
    );
    // Leave rooms after the current fan-out finishes, not in the middle of it.
    process.nextTick(() => this.disconnect(s, 'send queue exceeded'));
  }

  /** Marks input activity (idle timeout). */
  touch(s: Session): void {
    s.lastActive = this.clock.now();
  }

  // ---- what protocols call (thin: the modules do the work) -----------------------------

  /** A local session by name, registered. Protocols ask `presence` about others. */
  find(name: string): Session | undefined {
    const s = this.sessions.named(name);
    return s?.registered ? s : undefined;
  }

  setName(s: Session, name: string, registering = false): Promise<void> {
    return this.identity.setName(s, name, registering);
  }

  register(s: Session): Promise<void> {
    return this.identity.register(s);
  }

  /**
   * The protocol has shown its welcome: now is the time to say that the name belongs to
   * an account (the grace period starts), after the welcome rather than inside it.
   */
  welcomed(s: Session): void {
    this.accounts
      .checkName(s)
      .catch((err: unknown) => this.log.error({ err, id: s.id }, 'account check failed'));
  }

  join(s: Session, name: string, key?: string, arriving = false) {
    return this.membership.join(s, name, key, arriving);
  }

  part(s: Session, name: string, reason = ''): Promise<void> {
    return this.membership.part(s, name, reason);
  }

  switchTo(s: Session, name: string) {
    return this.membership.switchTo(s, name);
  }

  /** Renames a room (core/rename.ts); `s` null: the server (admin console). */
  rename(s: Session | null, oldName: string, newName: string, reason = '') {
    return this.renames.rename(s, oldName, newName, reason);
  }

  room(name: string) {
    return this.rooms.get(name);
  }

  requireRoom(name: string) {
    const room = this.rooms.get(name);
    if (!room) throw new ChatError(ErrorCode.NoSuchRoom, `No such room: ${name}`, name);
    return room;
  }

  notice(text: string, opts: NoticeOptions = {}): Promise<void> {
    return this.messaging.notice(text, opts);
  }

  get online(): number {
    return this.sessions.registered;
  }

  get peakOnline(): number {
    return this.sessions.peak;
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  unregisteredCount(): number {
    return this.sessions.size - this.sessions.registered;
  }

  // ---- shutdown ------------------------------------------------------------------------

  get shuttingDown(): boolean {
    return this.stopping;
  }

  get isShuttingDown(): boolean {
    return this.stopping;
  }

  /**
   * Tells every local client why (a local event: other nodes carry on), lets queues drain
   * for at most the grace period, then closes all.
   */
  async shutdown(reason = 'server shutting down'): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.housekeeping.stop();
    this.retention.stop();
    this.log.info({ reason, connections: this.sessions.size }, 'shutdown');
    const hold = this.options.nameHoldMs;
    this.fanout.deliver({
      type: 'shutdown',
      ts: this.clock.now(),
      reason,
      ...(hold > 0 ? { nameHoldMs: hold } : {}),
    });
    const all = [...this.sessions];
    for (const s of all) s.closeReason = reason;
    const deadline = this.clock.now() + this.options.shutdownGraceMs;
    while (all.some((s) => !s.closed && s.conn.pendingBytes() > 0) && this.clock.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // Nothing more reaches them but their farewell (written by disconnect).
    for (const s of all) s.closed = true;
    for (const s of all) this.disconnect(s, reason);
    await new Promise((r) => setTimeout(r, 20));
    for (const s of all) s.conn.destroy();
    // This node's presence ends with the process: the names it holds go to the store.
    if (this.presence === this.localPresence) {
      this.store.setSetting(HOLDS_SETTING, JSON.stringify(this.localPresence.heldNames()));
    }
    await this.extras.beforeBusClose?.();
    await this.bus.close();
    await this.store.close();
  }

  /** One sweep now (tests with an injected clock). */
  sweep(): void {
    this.housekeeping.sweep();
  }
}
