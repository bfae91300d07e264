/**
 * The hub: names, rooms, membership and fan-out. Every protocol calls these operations,
 * which is why a telnet user, an IRC user and a browser user share rooms. The hub never
 * touches a socket: it sees Connections and Encoders (ports.ts).
 *
 * Operations change local state synchronously, then publish an event on the bus; the bus
 * hands every event back to `dispatch`, which picks this node's recipients and encodes the
 * event once per wire-format variant.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { AccountService } from './accounts.js';
import { Counters } from './counters.js';
import { ChatError, ErrorCode } from './errors.js';
import type {
  Actor,
  ChatEvent,
  DirectEvent,
  HistoryEntry,
  MessageEvent,
  MessageKind,
  SendKind,
  DirectHistoryEntry,
} from './events.js';
import { checkName, checkRoom, fold, maskMatches } from './names.js';
import type { ServerOptions } from './options.js';
import type { Bus, Clock, Connection, Encoder, Logger, Store } from './ports.js';
import { silentLogger, systemClock } from './ports.js';
import { MemberFlag, Room, type BanEntry } from './room.js';
import { RoomStates } from './room-state.js';
import { Retention } from './retention.js';
import { Session } from './session.js';
import { stripControls, truncateUtf8 } from './text.js';

export interface WhowasEntry {
  name: string;
  user: string;
  host: string;
  realname: string;
  ts: number;
}

export interface ModeChange {
  set: boolean;
  mode: string;
  arg?: string;
}

const WHOWAS_LIMIT = 2000;

export class Hub {
  readonly counters = new Counters();
  readonly accounts: AccountService = new AccountService(this);
  /** Topic, modes, owner, bans and mutes of rooms, kept across emptiness and restarts. */
  readonly roomStates: RoomStates;
  readonly retention: Retention;
  readonly startedAt: number;
  private readonly sessions = new Set<Session>();
  private readonly byName = new Map<string, Session>();
  private readonly rooms = new Map<string, Room>();
  private readonly perIp = new Map<string, number>();
  private readonly whowasList: WhowasEntry[] = [];
  private nextSession = 0;
  private lastId = 0;
  private stamp = 0;
  private sweeper: NodeJS.Timeout | null = null;
  private shuttingDown = false;
  private registeredCount = 0;
  /**
   * Sessions still choosing a name, and how many connections want the sweep's clock
   * (IRC's PING): the sweep walks every session only when something needs that, so an
   * idle line-protocol server does no per-connection work at all. Walking 19,500 sessions
   * every second kept V8 from seeing the process idle and giving memory back.
   */
  private readonly choosing = new Set<Session>();
  private tickers = 0;
  /**
   * Registered sessions with user mode +i, and server operators: kept as counts because
   * IRC tells every client that registers (LUSERS), and counting by walking every session
   * made filling a server quadratic (19,500 registrations took 10 s of CPU).
   */
  private invisibleCount = 0;
  private operCount = 0;
  /** Pending roster digests of big rooms, flushed by the sweep. */
  private readonly digests = new Map<Room, { joined: string[]; left: string[] }>();
  private maxRegistered = 0;

  constructor(
    readonly options: ServerOptions,
    readonly store: Store,
    readonly bus: Bus,
    readonly log: Logger = silentLogger,
    readonly clock: Clock = systemClock,
  ) {
    this.startedAt = clock.now();
    this.roomStates = new RoomStates(store);
    this.retention = new Retention(
      store,
      { maxAgeMs: options.retentionMaxAgeMs, maxCount: options.retentionMaxCount },
      log,
    );
  }

  async start(): Promise<void> {
    await this.store.init();
    this.serverBans.push(...(await this.roomStates.load()));
    const motd = await this.store.getSetting('motd');
    if (motd !== null) this.options.motd = motd.split('\n');
    await this.retention.start();
    await this.bus.start((event) => this.dispatch(event));
    this.store.onHealthChange?.((healthy, reason) =>
      this.notice(
        healthy
          ? 'The chat is back: messages are saved again'
          : `The chat is degraded: messages cannot be saved (${reason}); sending is paused`,
      ),
    );
    // One sweep for every timeout instead of a timer per connection.
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  // ---- connections -------------------------------------------------------------------

  /** Admits a new connection, or returns a reason to refuse it. */
  admit(address: string): string | null {
    if (this.shuttingDown) return 'server shutting down';
    if (this.sessions.size >= this.options.maxConnections) return 'server full';
    if ((this.perIp.get(address) ?? 0) >= this.options.maxConnectionsPerIp) {
      return 'too many connections from your address';
    }
    const ban = this.serverBan(`*!*@${address}`);
    if (ban) return `banned from this server${ban.reason ? `: ${ban.reason}` : ''}`;
    return null;
  }

  /** Server-wide bans (admin console `ban`): masks checked at connect and registration. */
  readonly serverBans: BanEntry[] = [];

  private serverBan(mask: string): BanEntry | undefined {
    const now = this.clock.now();
    return this.serverBans.find(
      (b) => (b.expiresAt == null || b.expiresAt > now) && maskMatches(b.mask, mask),
    );
  }

  /** Bans a name or mask from the whole server and disconnects whoever matches now. */
  banServerWide(
    target: string,
    reason: string,
    durationMs: number | null,
    by = 'server',
  ): BanEntry {
    const mask = normalizeMask(target);
    const entry: BanEntry = {
      mask,
      by,
      at: this.clock.now(),
      reason: this.cleanText(reason, this.options.topicLength),
      expiresAt: durationMs === null ? null : this.clock.now() + durationMs,
    };
    const i = this.serverBans.findIndex((b) => fold(b.mask) === fold(mask));
    if (i >= 0) this.serverBans.splice(i, 1);
    this.serverBans.push(entry);
    this.roomStates.saveBan('*', 'ban', mask, entry);
    for (const s of [...this.sessions]) {
      if (s.registered && maskMatches(mask, s.mask)) {
        s.closeReason = `banned from this server${entry.reason ? `: ${entry.reason}` : ''}`;
        this.disconnect(s, s.closeReason);
      }
    }
    return entry;
  }

  unbanServerWide(target: string): boolean {
    const mask = normalizeMask(target);
    const i = this.serverBans.findIndex((b) => fold(b.mask) === fold(mask));
    if (i < 0) return false;
    this.serverBans.splice(i, 1);
    this.roomStates.deleteBan('*', 'ban', mask);
    return true;
  }

  attach(conn: Connection, encoder: Encoder): Session {
    const now = this.clock.now();
    const s = new Session(String(++this.nextSession), conn, encoder, conn.remoteAddress, now);
    this.sessions.add(s);
    this.choosing.add(s);
    if (conn.tick) this.tickers++;
    this.perIp.set(conn.remoteAddress, (this.perIp.get(conn.remoteAddress) ?? 0) + 1);
    this.counters.connected(conn.protocol);
    this.log.info({ id: s.id, protocol: conn.protocol, address: conn.remoteAddress }, 'connect');
    return s;
  }

  /** Forgets a connection: leaves its rooms, tells the others, frees its name. Idempotent. */
  disconnect(s: Session, reason: string): void {
    if (!this.sessions.delete(s)) return;
    this.choosing.delete(s);
    if (s.conn.tick) this.tickers--;
    s.closed = true;
    this.accounts.cancelGrace(s);
    const why = s.closeReason ?? reason;
    const left = this.perIp.get(s.conn.remoteAddress) ?? 1;
    if (left <= 1) this.perIp.delete(s.conn.remoteAddress);
    else this.perIp.set(s.conn.remoteAddress, left - 1);
    this.counters.disconnected(s.conn.protocol);
    if (s.registered) {
      this.registeredCount--;
      this.census(s, -1);
      const rooms = [...s.rooms].map((r) => r.name);
      const bulk = s.rooms.size > 0 && [...s.rooms].every((r) => this.isBig(r));
      if (bulk) for (const r of s.rooms) this.digest(r).left.push(s.name);
      this.removeFromRooms(s);
      this.rememberWhowas(s);
      this.bus.publish({
        type: 'quit',
        ts: this.clock.now(),
        who: s.actor(),
        reason: why,
        rooms,
        ...(bulk ? { bulk } : {}),
      });
    }
    if (s.name && this.byName.get(fold(s.name)) === s) this.byName.delete(fold(s.name));
    this.log.info({ id: s.id, name: s.name || undefined, reason: why }, 'disconnect');
    const farewell = s.encoder.farewell?.(why, s);
    if (farewell) s.conn.write(farewell);
    s.conn.end();
  }

  /** Marks input activity (idle timeout). */
  touch(s: Session): void {
    s.lastActive = this.clock.now();
  }

  // ---- names -----------------------------------------------------------------------------

  find(name: string): Session | undefined {
    const s = this.byName.get(fold(name));
    return s && s.registered ? s : undefined;
  }

  /** Whether a name is free for `s` (its own current name counts as free). */
  nameFree(name: string, s?: Session): boolean {
    const owner = this.byName.get(fold(name));
    return !owner || owner === s;
  }

  /**
   * Gives `s` a name. Before registration this only reserves it (IRC sends NICK before
   * USER); afterwards it is a rename that everyone sharing a room sees.
   */
  setName(s: Session, name: string): void {
    checkName(name, this.options.nameLength);
    const key = fold(name);
    const owner = this.byName.get(key);
    if (owner && owner !== s) {
      throw new ChatError(ErrorCode.NameInUse, `The name ${name} is already in use`, name);
    }
    if (name === s.name) return;
    const old = s.actor();
    if (s.name && this.byName.get(fold(s.name)) === s) this.byName.delete(fold(s.name));
    this.byName.set(key, s);
    const oldName = s.name;
    s.name = name;
    s.identityChanged();
    if (s.registered) {
      this.rememberWhowas({ ...s, name: oldName } as Session);
      this.bus.publish({
        type: 'nick',
        ts: this.clock.now(),
        who: old,
        newName: name,
        rooms: [...s.rooms].map((r) => r.name),
      });
      this.checkAccountName(s);
    }
  }

  private checkAccountName(s: Session): void {
    this.accounts
      .checkName(s)
      .catch((err: unknown) => this.log.error({ err }, 'account check failed'));
  }

  /** Tells those who share a room (and the person) that `s` logged in. */
  accountChanged(s: Session): void {
    this.bus.publish({
      type: 'account',
      ts: this.clock.now(),
      who: s.actor(),
      rooms: [...s.rooms].map((r) => r.name),
    });
  }

  /** Completes registration once the session has a name. */
  register(s: Session): void {
    if (s.registered) return;
    if (!s.name) throw new ChatError(ErrorCode.NameRequired, 'Choose a name first');
    const ban = this.serverBan(s.mask);
    if (ban) {
      throw new ChatError(
        ErrorCode.Banned,
        `You are banned from this server${ban.reason ? `: ${ban.reason}` : ''}`,
        s.name,
      );
    }
    s.registered = true;
    this.choosing.delete(s);
    if (!s.user) s.user = s.name;
    s.identityChanged();
    this.registeredCount++;
    this.census(s, 1);
    this.maxRegistered = Math.max(this.maxRegistered, this.registeredCount);
    s.lastActive = this.clock.now();
    this.log.info({ id: s.id, name: s.name, protocol: s.conn.protocol }, 'registered');
    this.checkAccountName(s);
  }

  get online(): number {
    return this.registeredCount;
  }

  get peakOnline(): number {
    return this.maxRegistered;
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  /** Counts for IRC's LUSERS, without walking every session. */
  userCounts(): { users: number; invisible: number; opers: number } {
    return { users: this.registeredCount, invisible: this.invisibleCount, opers: this.operCount };
  }

  /** Adds (1) or removes (-1) a registered session's share of the census counts. */
  private census(s: Session, sign: 1 | -1): void {
    if (s.umodes.includes('i')) this.invisibleCount += sign;
    if (s.oper) this.operCount += sign;
  }

  /**
   * Sets or clears one user mode letter (IRC MODE nick ±i/±w/-o). Clearing 'o' drops
   * server operator powers too (RFC 2812 3.1.5). True when something changed.
   */
  setUserMode(s: Session, mode: string, on: boolean): boolean {
    if (s.umodes.includes(mode) === on) return false;
    if (s.registered) this.census(s, -1);
    s.umodes = on ? s.umodes + mode : s.umodes.replace(mode, '');
    if (mode === 'o' && !on) s.oper = false;
    if (s.registered) this.census(s, 1);
    return true;
  }

  unregisteredCount(): number {
    return this.sessions.size - this.registeredCount;
  }

  /** Registered sessions (a snapshot). */
  users(): Session[] {
    return [...this.sessions].filter((s) => s.registered);
  }

  // ---- rooms -----------------------------------------------------------------------------

  room(name: string): Room | undefined {
    return this.rooms.get(fold(name));
  }

  roomList(): Room[] {
    return [...this.rooms.values()];
  }

  get roomCount(): number {
    return this.rooms.size;
  }

  requireRoom(name: string): Room {
    const room = this.room(name);
    if (!room) throw new ChatError(ErrorCode.NoSuchRoom, `No such room: ${name}`, name);
    return room;
  }

  private requireMember(s: Session, name: string): Room {
    const room = this.requireRoom(name);
    if (!room.members.has(s)) {
      throw new ChatError(ErrorCode.NotInRoom, `You are not in ${room.name}`, room.name);
    }
    return room;
  }

  isBanned(room: Room, s: Session): boolean {
    const now = this.clock.now();
    return room.bans.some(
      (b) => (b.expiresAt == null || b.expiresAt > now) && maskMatches(b.mask, s.mask),
    );
  }

  isMuted(room: Room, s: Session): boolean {
    const until = room.mutes.get(fold(s.name));
    if (until === undefined) return false;
    if (until !== null && until <= this.clock.now()) {
      room.mutes.delete(fold(s.name));
      return false;
    }
    return true;
  }

  /** Joins a room, creating it (with `s` as operator) if it does not exist. */
  join(s: Session, name: string, key?: string): { room: Room; created: boolean } {
    this.requireRegistered(s);
    checkRoom(name, this.options.roomNameLength);
    let room = this.room(name);
    if (room?.members.has(s)) {
      throw new ChatError(ErrorCode.AlreadyInRoom, `You are already in ${room.name}`, room.name);
    }
    if (s.rooms.size >= this.options.maxRoomsPerUser) {
      throw new ChatError(
        ErrorCode.TooManyRooms,
        `You are in too many rooms (at most ${this.options.maxRoomsPerUser})`,
        name,
      );
    }
    const created = !room;
    if (room) {
      const invited = room.invited.has(fold(s.name));
      if (!s.oper) {
        if (this.isBanned(room, s) && !invited) {
          throw new ChatError(ErrorCode.Banned, `You are banned from ${room.name}`, room.name);
        }
        if (room.modes.inviteOnly && !invited) {
          throw new ChatError(ErrorCode.InviteOnly, `${room.name} is invite only`, room.name);
        }
        if (room.modes.key !== null && room.modes.key !== key) {
          throw new ChatError(ErrorCode.BadKey, `${room.name} needs the right key`, room.name);
        }
        if (room.modes.limit > 0 && room.members.size >= room.modes.limit) {
          throw new ChatError(ErrorCode.RoomFull, `${room.name} is full`, room.name);
        }
      }
      room.invited.delete(fold(s.name));
    } else {
      room = new Room(name, fold(name), this.clock.now());
      this.roomStates.restore(room);
      this.rooms.set(room.key, room);
    }
    const owns = room.owner !== null && s.account !== null && fold(room.owner) === fold(s.account);
    room.members.set(s, owns || (created && room.owner === null) ? MemberFlag.Op : 0);
    if (!s.encoder.skipsBulkRoster) room.bulkAudience++;
    s.rooms.add(room);
    s.current = room;
    const bulk = this.isBig(room);
    if (bulk) this.digest(room).joined.push(s.name);
    this.bus.publish({
      type: 'joined',
      ts: this.clock.now(),
      room: room.name,
      who: s.actor(),
      realname: s.realname,
      ...(bulk ? { bulk } : {}),
      ...(s.away !== null ? { away: s.away } : {}),
    });
    return { room, created };
  }

  part(s: Session, name: string, reason = ''): void {
    const room = this.requireMember(s, name);
    const bulk = this.isBig(room);
    if (bulk) this.digest(room).left.push(s.name);
    this.leave(s, room);
    this.bus.publish({
      type: 'left',
      ts: this.clock.now(),
      room: room.name,
      who: s.actor(),
      reason: this.cleanText(reason, this.options.topicLength),
      ...(bulk ? { bulk } : {}),
    });
  }

  private isBig(room: Room): boolean {
    return room.members.size > this.options.rosterDigestThreshold;
  }

  private digest(room: Room): { joined: string[]; left: string[] } {
    let d = this.digests.get(room);
    if (!d) {
      d = { joined: [], left: [] };
      this.digests.set(room, d);
    }
    return d;
  }

  /** Publishes the gathered joins and departures of big rooms. */
  private flushDigests(): void {
    const ts = this.clock.now();
    for (const [room, d] of this.digests) {
      this.bus.publish({ type: 'roster', ts, room: room.name, joined: d.joined, left: d.left });
    }
    this.digests.clear();
  }

  private leave(s: Session, room: Room): void {
    if (room.members.delete(s) && !s.encoder.skipsBulkRoster) room.bulkAudience--;
    s.rooms.delete(room);
    if (s.current === room) s.current = s.rooms.first() ?? null;
    if (room.members.size === 0) {
      this.rooms.delete(room.key);
      this.roomStates.retire(room);
    }
  }

  private removeFromRooms(s: Session): void {
    for (const room of [...s.rooms]) this.leave(s, room);
  }

  /** Makes `name` the room plain text goes to. */
  switchTo(s: Session, name: string): Room {
    const room = this.requireMember(s, name);
    s.current = room;
    return room;
  }

  // ---- messages --------------------------------------------------------------------------

  private requireRegistered(s: Session): void {
    if (!s.registered) throw new ChatError(ErrorCode.NotRegistered, 'Choose a name first');
  }

  /** Strips terminal controls and bounds the size of text that goes to other people. */
  cleanText(text: string, maxBytes = this.options.maxMessageBytes): string {
    return truncateUtf8(stripControls(text), maxBytes);
  }

  private newId(ts: number): string {
    // Sortable and unique per node: milliseconds * 1000 + a sequence within the millisecond.
    this.lastId = Math.max(this.lastId + 1, ts * 1000);
    return String(this.lastId);
  }

  say(
    s: Session,
    roomName: string,
    text: string,
    sendKind: SendKind = 'say',
    tags?: Record<string, string>,
  ): MessageEvent {
    const tagOnly = sendKind === 'tag';
    const kind: MessageKind = tagOnly ? 'say' : sendKind;
    this.requireRegistered(s);
    const room = this.requireRoom(roomName);
    const member = room.members.has(s);
    if (!member && room.modes.noExternal && !s.oper) {
      throw new ChatError(ErrorCode.NoExternal, `You are not in ${room.name}`, room.name);
    }
    if (room.modes.moderated && !s.oper && !room.isOp(s) && !room.isVoiced(s)) {
      throw new ChatError(ErrorCode.Moderated, `${room.name} is moderated`, room.name);
    }
    if (this.isBanned(room, s) && !room.isOp(s) && !room.isVoiced(s) && !s.oper) {
      throw new ChatError(ErrorCode.Banned, `You are banned from ${room.name}`, room.name);
    }
    if (this.isMuted(room, s)) {
      throw new ChatError(ErrorCode.Moderated, `You are muted in ${room.name}`, room.name);
    }
    const clean = tagOnly ? '' : this.cleanText(text);
    if (clean.length === 0 && !tagOnly) throw new ChatError(ErrorCode.TextEmpty, 'No text to send');
    if (!tagOnly) this.requireWritable();
    const ts = this.clock.now();
    const event: MessageEvent = {
      type: 'message',
      id: this.newId(ts),
      ts,
      room: room.name,
      from: s.actor(),
      text: clean,
      kind,
      origin: s.id,
    };
    if (tags) event.tags = tags;
    if (tagOnly) event.tagOnly = true;
    this.counters.messagesIn++;
    if (kind !== 'notice' && !tagOnly) {
      this.store.appendMessage({
        id: event.id,
        ts,
        room: room.name,
        from: s.name,
        mask: s.mask,
        text: clean,
        kind,
      });
    }
    this.bus.publish(event);
    return event;
  }

  dm(
    s: Session,
    to: string,
    text: string,
    sendKind: SendKind = 'say',
    tags?: Record<string, string>,
  ): DirectEvent {
    const tagOnly = sendKind === 'tag';
    const kind: MessageKind = tagOnly ? 'say' : sendKind;
    this.requireRegistered(s);
    const target = this.find(to);
    if (!target) throw new ChatError(ErrorCode.NoSuchUser, `No one is called ${to}`, to);
    const clean = tagOnly ? '' : this.cleanText(text);
    if (clean.length === 0 && !tagOnly) throw new ChatError(ErrorCode.TextEmpty, 'No text to send');
    // Kept only between two identified accounts: a conversation needs a stable name on
    // both sides to be found again (a guest's name is anyone's after they leave).
    const keep = !tagOnly && kind !== 'notice' && s.account !== null && target.account !== null;
    if (keep) this.requireWritable();
    const ts = this.clock.now();
    const event: DirectEvent = {
      type: 'dm',
      id: this.newId(ts),
      ts,
      from: s.actor(),
      to: target.name,
      text: clean,
      kind,
      origin: s.id,
    };
    if (tags) event.tags = tags;
    if (tagOnly) event.tagOnly = true;
    this.counters.messagesIn++;
    if (keep) {
      this.store.appendMessage({
        id: event.id,
        ts,
        room: directKey(s.account as string, target.account as string),
        // Private history names people by account: that is what both sides share.
        from: s.account as string,
        mask: s.mask,
        text: clean,
        kind,
      });
    }
    this.bus.publish(event);
    return event;
  }

  /** The disk is behind: push back on the sender rather than show what we cannot keep. */
  private requireWritable(): void {
    if (this.store.writable && !this.store.writable()) {
      if (!this.store.healthy()) {
        throw new ChatError(
          ErrorCode.StoreUnavailable,
          'History cannot be saved right now, so messages are refused; try again shortly',
        );
      }
      throw new ChatError(
        ErrorCode.Flood,
        'The server is busy saving history; try again in a moment',
      );
    }
  }

  /**
   * The private conversation between `s`'s account and `peer` (a name online, or an
   * account), oldest first, at most `limit`, ending before `before`.
   */
  async directHistory(
    s: Session,
    peer: string,
    limit: number,
    before?: string,
  ): Promise<{ peer: string; entries: DirectHistoryEntry[] }> {
    this.requireRegistered(s);
    if (s.account === null) {
      throw new ChatError(
        ErrorCode.NotIdentified,
        'Private history is kept between accounts: /register or /identify first',
      );
    }
    const online = this.find(peer);
    const account = online?.account ?? (await this.store.getAccount(peer))?.name ?? null;
    if (account === null) {
      throw new ChatError(ErrorCode.NoSuchUser, `No account is called ${peer}`, peer);
    }
    const mine = s.account;
    const room = directKey(mine, account);
    const entries = await this.store.history({ room, limit, ...(before ? { before } : {}) });
    return {
      peer: account,
      entries: entries.map((e) => ({
        id: e.id,
        ts: e.ts,
        from: e.from,
        to: fold(e.from) === fold(mine) ? account : mine,
        text: e.text,
        kind: e.kind,
      })),
    };
  }

  history(room: string, limit: number, before?: string): Promise<HistoryEntry[]> {
    const name = this.room(room)?.name ?? room;
    // Only room names: private conversations are stored under keys that are not (see
    // directKey) and are read through directHistory alone.
    checkRoom(name, this.options.roomNameLength);
    return this.store.history({ room: name, limit, ...(before ? { before } : {}) });
  }

  setTopic(s: Session, name: string, topic: string): void {
    const room = this.requireMember(s, name);
    if (room.modes.topicLocked && !room.isOp(s) && !s.oper) {
      throw new ChatError(
        ErrorCode.NeedOp,
        `Only operators may set the topic of ${room.name}`,
        room.name,
      );
    }
    room.topic = this.cleanText(topic, this.options.topicLength);
    room.topicBy = s.mask;
    room.topicAt = this.clock.now();
    this.roomStates.save(room);
    this.bus.publish({
      type: 'topic',
      ts: room.topicAt,
      room: room.name,
      by: s.actor(),
      topic: room.topic,
    });
  }

  setAway(s: Session, message: string | null): void {
    s.away = message === null ? null : this.cleanText(message, this.options.topicLength);
    this.bus.publish({
      type: 'away',
      ts: this.clock.now(),
      who: s.actor(),
      message: s.away,
      rooms: [...s.rooms].map((r) => r.name),
    });
  }

  // ---- moderation ------------------------------------------------------------------------

  private requireOp(s: Session, room: Room): void {
    if (!s.oper && !room.isOp(s)) {
      throw new ChatError(ErrorCode.NeedOp, `You are not an operator of ${room.name}`, room.name);
    }
  }

  kick(s: Session, roomName: string, targetName: string, reason: string): void {
    const room = s.oper ? this.requireRoom(roomName) : this.requireMember(s, roomName);
    this.requireOp(s, room);
    const target = this.find(targetName);
    if (!target)
      throw new ChatError(ErrorCode.NoSuchUser, `No one is called ${targetName}`, targetName);
    if (!room.members.has(target)) {
      throw new ChatError(
        ErrorCode.NotInRoom,
        `${target.name} is not in ${room.name}`,
        target.name,
      );
    }
    const event = {
      type: 'kick' as const,
      ts: this.clock.now(),
      room: room.name,
      by: s.actor(),
      name: target.name,
      reason: this.cleanText(reason || s.name, this.options.topicLength),
    };
    // Tell the room (the target included) before the target leaves it.
    this.bus.publish(event);
    this.leave(target, room);
  }

  invite(s: Session, targetName: string, roomName: string): Session {
    const target = this.find(targetName);
    if (!target)
      throw new ChatError(ErrorCode.NoSuchUser, `No one is called ${targetName}`, targetName);
    const room = this.room(roomName);
    if (room) {
      if (!room.members.has(s) && !s.oper) {
        throw new ChatError(ErrorCode.NotInRoom, `You are not in ${room.name}`, room.name);
      }
      if (room.members.has(target)) {
        throw new ChatError(
          ErrorCode.AlreadyInRoom,
          `${target.name} is already in ${room.name}`,
          target.name,
        );
      }
      if (room.modes.inviteOnly) this.requireOp(s, room);
      room.invited.add(fold(target.name));
    }
    this.bus.publish({
      type: 'invite',
      ts: this.clock.now(),
      room: room?.name ?? roomName,
      by: s.actor(),
      name: target.name,
    });
    return target;
  }

  /**
   * Applies channel mode changes (IRC letters: o v b i k l m n t s). Returns the changes
   * that took effect, which are published as one mode event.
   */
  setRoomModes(s: Session, roomName: string, changes: ModeChange[]): ModeChange[] {
    const room = this.requireRoom(roomName);
    this.requireOp(s, room);
    const applied: ModeChange[] = [];
    for (const c of changes) {
      if (this.applyMode(room, c, s)) applied.push(c);
    }
    if (applied.some((c) => c.mode !== 'o' && c.mode !== 'v' && c.mode !== 'b')) {
      this.roomStates.save(room);
    }
    if (applied.length > 0) {
      let modes = '';
      let sign = '';
      const params: string[] = [];
      for (const c of applied) {
        const want = c.set ? '+' : '-';
        if (want !== sign) modes += want;
        sign = want;
        modes += c.mode;
        if (c.arg !== undefined) params.push(c.arg);
      }
      this.bus.publish({
        type: 'mode',
        ts: this.clock.now(),
        room: room.name,
        by: s.actor(),
        modes,
        params,
      });
    }
    return applied;
  }

  private applyMode(room: Room, c: ModeChange, by: Session): boolean {
    const m = room.modes;
    switch (c.mode) {
      case 'o':
      case 'v': {
        const target = c.arg ? this.find(c.arg) : undefined;
        if (!target)
          throw new ChatError(ErrorCode.NoSuchUser, `No one is called ${c.arg ?? ''}`, c.arg ?? '');
        if (!room.members.has(target)) {
          throw new ChatError(
            ErrorCode.NotInRoom,
            `${target.name} is not in ${room.name}`,
            target.name,
          );
        }
        const flag = c.mode === 'o' ? MemberFlag.Op : MemberFlag.Voice;
        const had = ((room.members.get(target) ?? 0) & flag) !== 0;
        if (had === c.set) return false;
        room.setFlag(target, flag, c.set);
        c.arg = target.name;
        return true;
      }
      case 'b': {
        if (!c.arg) return false;
        const mask = normalizeMask(c.arg);
        const idx = room.bans.findIndex((b) => fold(b.mask) === fold(mask));
        if (c.set) {
          if (idx >= 0) return false;
          const entry = { mask, by: by.mask, at: this.clock.now(), expiresAt: null };
          room.bans.push(entry);
          this.roomStates.saveBan(room.name, 'ban', mask, entry);
        } else {
          if (idx < 0) return false;
          room.bans.splice(idx, 1);
          this.roomStates.deleteBan(room.name, 'ban', mask);
        }
        c.arg = mask;
        return true;
      }
      case 'k':
        if (c.set) {
          if (!c.arg) return false;
          m.key = c.arg;
        } else {
          if (m.key === null) return false;
          m.key = null;
          c.arg = '*';
        }
        return true;
      case 'l':
        if (c.set) {
          const n = Number(c.arg);
          if (!Number.isInteger(n) || n <= 0) return false;
          m.limit = n;
          c.arg = String(n);
        } else {
          if (m.limit === 0) return false;
          m.limit = 0;
          delete c.arg;
        }
        return true;
      case 'i':
        return flip(m, 'inviteOnly', c);
      case 'm':
        return flip(m, 'moderated', c);
      case 'n':
        return flip(m, 'noExternal', c);
      case 't':
        return flip(m, 'topicLocked', c);
      case 's':
        return flip(m, 'secret', c);
      default:
        throw new ChatError(ErrorCode.BadRequest, `Unknown mode ${c.mode}`, c.mode);
    }
  }

  /**
   * Bans a name (or an IRC mask) from a room, for `durationMs` or until lifted, and kicks
   * the person if present. Published as a +b mode change so IRC clients see it too.
   */
  ban(
    s: Session,
    roomName: string,
    target: string,
    reason: string,
    durationMs: number | null,
  ): string {
    const room = this.requireRoom(roomName);
    this.requireOp(s, room);
    const mask = normalizeMask(target);
    const existing = room.bans.find((b) => fold(b.mask) === fold(mask));
    const expiresAt = durationMs === null ? null : this.clock.now() + durationMs;
    const clean = this.cleanText(reason, this.options.topicLength);
    if (existing) {
      existing.expiresAt = expiresAt;
      existing.reason = clean;
      this.roomStates.saveBan(room.name, 'ban', mask, existing);
    } else {
      const entry = { mask, by: s.mask, at: this.clock.now(), reason: clean, expiresAt };
      room.bans.push(entry);
      this.roomStates.saveBan(room.name, 'ban', mask, entry);
      this.bus.publish({
        type: 'mode',
        ts: this.clock.now(),
        room: room.name,
        by: s.actor(),
        modes: '+b',
        params: [mask],
      });
    }
    const present = this.find(target);
    if (present && room.members.has(present))
      this.kick(s, room.name, present.name, clean || 'banned');
    return mask;
  }

  unban(s: Session, roomName: string, target: string): void {
    this.setRoomModes(s, roomName, [{ set: false, mode: 'b', arg: target }]);
  }

  /** Silences someone in a room for `durationMs` (or until lifted with `unmute`). */
  mute(s: Session, roomName: string, targetName: string, durationMs: number | null): void {
    const room = this.requireRoom(roomName);
    this.requireOp(s, room);
    const target = this.find(targetName);
    if (!target)
      throw new ChatError(ErrorCode.NoSuchUser, `No one is called ${targetName}`, targetName);
    const expiresAt = durationMs === null ? null : this.clock.now() + durationMs;
    room.mutes.set(fold(target.name), expiresAt);
    this.roomStates.saveBan(room.name, 'mute', target.name, {
      by: s.mask,
      at: this.clock.now(),
      expiresAt,
    });
    const until = durationMs === null ? 'until unmuted' : `for ${formatDuration(durationMs)}`;
    this.notice(`${target.name} was muted in ${room.name} by ${s.name} ${until}`, {
      room: room.name,
    });
  }

  unmute(s: Session, roomName: string, targetName: string): void {
    const room = this.requireRoom(roomName);
    this.requireOp(s, room);
    this.roomStates.deleteBan(room.name, 'mute', targetName);
    if (!room.mutes.delete(fold(targetName))) {
      throw new ChatError(
        ErrorCode.BadRequest,
        `${targetName} is not muted in ${room.name}`,
        targetName,
      );
    }
    this.notice(`${targetName} was unmuted in ${room.name} by ${s.name}`, { room: room.name });
  }

  /** An identified account takes permanent ownership of a room it operates. */
  claim(s: Session, roomName: string): Room {
    const room = this.requireMember(s, roomName);
    if (!s.account) {
      throw new ChatError(
        ErrorCode.PermissionDenied,
        'Identify with an account first (/register or /identify)',
      );
    }
    if (room.owner && room.owner !== s.account) {
      throw new ChatError(
        ErrorCode.PermissionDenied,
        `${room.name} is owned by ${room.owner}`,
        room.name,
      );
    }
    this.requireOp(s, room);
    room.owner = s.account;
    this.roomStates.save(room);
    return room;
  }

  /** Server operator login (IRC OPER). */
  oper(s: Session, name: string, password: string): boolean {
    const expected = this.options.opers.get(name);
    if (expected === undefined || !constantTimeEqual(expected, password)) return false;
    if (s.registered) this.census(s, -1);
    s.oper = true;
    if (!s.umodes.includes('o')) s.umodes += 'o';
    if (s.registered) this.census(s, 1);
    this.log.info({ id: s.id, name: s.name, oper: name }, 'oper');
    return true;
  }

  /** Server operator removes someone from the server. */
  kill(s: Session, targetName: string, reason: string): Session {
    if (!s.oper)
      throw new ChatError(ErrorCode.PermissionDenied, 'Only server operators can do that');
    const target = this.find(targetName);
    if (!target)
      throw new ChatError(ErrorCode.NoSuchUser, `No one is called ${targetName}`, targetName);
    this.disconnect(target, `Killed by ${s.name}: ${this.cleanText(reason, 200)}`);
    return target;
  }

  /** A notice from the server to everyone, one person, or the operators. */
  notice(
    text: string,
    opts: { to?: string; room?: string; opersOnly?: boolean; wallops?: boolean; from?: Actor } = {},
  ): void {
    this.bus.publish({ type: 'notice', ts: this.clock.now(), text: this.cleanText(text), ...opts });
  }

  // ---- fan-out ---------------------------------------------------------------------------

  /** Sends bytes to one session outside fan-out (replies), with the same queue limit. */
  send(s: Session, data: Buffer): void {
    if (s.closed) return;
    if (s.conn.pendingBytes() + data.length > this.options.sendQueueBytes) {
      this.evict(s);
      return;
    }
    s.conn.write(data);
  }

  /** Disconnects a reader that fell behind: it stops receiving at once, others never wait. */
  evict(s: Session): void {
    if (s.closed) return;
    s.closed = true;
    s.closeReason = 'send queue exceeded';
    this.counters.sendQueueEvictions++;
    this.log.warn(
      { id: s.id, name: s.name, pending: s.conn.pendingBytes() },
      'send queue exceeded',
    );
    s.conn.destroy();
    // Leave rooms after the current fan-out finishes, not in the middle of it.
    process.nextTick(() => this.disconnect(s, 'send queue exceeded'));
  }

  private deliverTo(s: Session, event: ChatEvent, cache: Map<string, Buffer | null>): void {
    if (s.closed) return;
    const variant = s.encoder.variant(event, s);
    if (variant === null) return;
    let data = cache.get(variant);
    if (data === undefined) {
      data = s.encoder.encode(event, s);
      cache.set(variant, data);
      this.counters.encodings++;
    }
    if (data === null) return;
    if (s.conn.pendingBytes() + data.length > this.options.sendQueueBytes) {
      this.evict(s);
      return;
    }
    s.conn.write(data);
    this.counters.deliveries++;
  }

  private deliverToRoom(
    name: string,
    event: ChatEvent,
    cache: Map<string, Buffer | null>,
    stamp: number,
  ): void {
    const room = this.rooms.get(fold(name));
    if (!room) return;
    // No member here shows others' bulk joins or departures; the one who joined or left
    // is not visited either: a joiner gets its own reply, a leaver is told by dispatch.
    if (room.bulkAudience === 0 && isBulkRoster(event)) return;
    for (const s of room.members.keys()) {
      if (s.mark === stamp) continue;
      s.mark = stamp;
      this.deliverTo(s, event, cache);
    }
  }

  /** Delivers one event to this node's sessions that must see it. Called by the bus. */
  dispatch(event: ChatEvent): void {
    const cache = new Map<string, Buffer | null>();
    const stamp = ++this.stamp;
    switch (event.type) {
      case 'message':
      case 'joined':
      case 'roster':
      case 'topic':
      case 'mode':
      case 'kick':
        this.deliverToRoom(event.room, event, cache, stamp);
        break;
      case 'left': {
        this.deliverToRoom(event.room, event, cache, stamp);
        const who = this.byName.get(fold(event.who.name));
        if (who && who.mark !== stamp) this.deliverTo(who, event, cache);
        break;
      }
      case 'quit':
      case 'away':
        for (const r of event.rooms) this.deliverToRoom(r, event, cache, stamp);
        break;
      case 'account': {
        const self = this.byName.get(fold(event.who.name));
        if (self) {
          self.mark = stamp;
          this.deliverTo(self, event, cache);
        }
        for (const r of event.rooms) this.deliverToRoom(r, event, cache, stamp);
        break;
      }
      case 'nick': {
        const self = this.byName.get(fold(event.newName));
        if (self) {
          self.mark = stamp;
          this.deliverTo(self, event, cache);
        }
        for (const r of event.rooms) this.deliverToRoom(r, event, cache, stamp);
        break;
      }
      case 'dm': {
        const target = this.byName.get(fold(event.to));
        if (target) this.deliverTo(target, event, cache);
        const sender = this.byName.get(fold(event.from.name));
        if (sender && sender !== target && sender.id === event.origin)
          this.deliverTo(sender, event, cache);
        break;
      }
      case 'invite': {
        const target = this.byName.get(fold(event.name));
        if (target) this.deliverTo(target, event, cache);
        break;
      }
      case 'notice':
        if (event.room !== undefined) {
          this.deliverToRoom(event.room, event, cache, stamp);
        } else if (event.to !== undefined) {
          const target = this.byName.get(fold(event.to));
          if (target) this.deliverTo(target, event, cache);
        } else {
          for (const s of this.sessions) {
            if (!s.registered) continue;
            const wanted = event.wallops
              ? s.oper || s.umodes.includes('w')
              : !event.opersOnly || s.oper;
            if (wanted) this.deliverTo(s, event, cache);
          }
        }
        break;
      case 'shutdown':
        for (const s of this.sessions) this.deliverTo(s, event, cache);
        break;
    }
  }

  // ---- housekeeping ----------------------------------------------------------------------

  private sweep(): void {
    if (this.digests.size > 0) this.flushDigests();
    const now = this.clock.now();
    const { registrationTimeoutMs, idleTimeoutMs } = this.options;
    if (registrationTimeoutMs > 0) {
      for (const s of this.choosing) {
        if (now - s.connectedAt > registrationTimeoutMs) {
          s.closeReason = 'registration timeout';
          this.disconnect(s, 'registration timeout');
        }
      }
    }
    if (this.tickers === 0 && idleTimeoutMs <= 0) return;
    for (const s of this.sessions) {
      s.conn.tick?.(now);
      if (s.closed || !s.registered) continue;
      if (idleTimeoutMs > 0 && now - s.lastActive > idleTimeoutMs) {
        this.disconnect(s, 'idle timeout');
      }
    }
  }

  private rememberWhowas(s: Session): void {
    this.whowasList.push({
      name: s.name,
      user: s.user,
      host: s.host,
      realname: s.realname,
      ts: this.clock.now(),
    });
    if (this.whowasList.length > WHOWAS_LIMIT)
      this.whowasList.splice(0, this.whowasList.length - WHOWAS_LIMIT);
  }

  /** Most recent first. */
  whowas(name: string, count: number): WhowasEntry[] {
    const key = fold(name);
    const out: WhowasEntry[] = [];
    for (let i = this.whowasList.length - 1; i >= 0 && out.length < count; i--) {
      const w = this.whowasList[i] as WhowasEntry;
      if (fold(w.name) === key) out.push(w);
    }
    return out;
  }

  /** Tells everyone why, lets queues drain for at most the grace period, then closes all. */
  async shutdown(reason = 'server shutting down'): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.retention.stop();
    this.log.info({ reason, connections: this.sessions.size }, 'shutdown');
    this.bus.publish({ type: 'shutdown', ts: this.clock.now(), reason });
    const all = [...this.sessions];
    for (const s of all) {
      s.closeReason = reason;
      s.closed = true;
      s.conn.end();
    }
    const deadline = this.clock.now() + this.options.shutdownGraceMs;
    while (all.some((s) => s.conn.pendingBytes() > 0) && this.clock.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const s of all) {
      this.disconnect(s, reason);
      s.conn.destroy();
    }
    await this.bus.close();
    await this.store.close();
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }
}

function flip(
  m: {
    inviteOnly: boolean;
    moderated: boolean;
    noExternal: boolean;
    topicLocked: boolean;
    secret: boolean;
  },
  key: 'inviteOnly' | 'moderated' | 'noExternal' | 'topicLocked' | 'secret',
  c: ModeChange,
): boolean {
  if (m[key] === c.set) return false;
  m[key] = c.set;
  delete c.arg;
  return true;
}

/** "10m", "2h", "7d", "30s" → milliseconds, or null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const m = /^(\d{1,6})([smhdw])$/.exec(text.trim().toLowerCase());
  if (!m) return null;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 's'];
  return Number(m[1]) * unit;
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}

/** Completes a partial ban mask the way IRC servers do: "bob" → "bob!*@*". */
export function normalizeMask(mask: string): string {
  if (mask.includes('!') || mask.includes('@')) {
    const [nickPart, rest = '*@*'] = mask.includes('!') ? mask.split('!', 2) : ['*', mask];
    const [user = '*', host = '*'] = rest.includes('@') ? rest.split('@', 2) : [rest, '*'];
    return `${nickPart || '*'}!${user || '*'}@${host || '*'}`;
  }
  return `${mask}!*@*`;
}

/** Compares secrets in constant time (hashing first makes the lengths equal). */
function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/**
 * Where a private conversation is kept: the history of a room no one can join, named by
 * both accounts in a fixed order (names cannot hold spaces; room names start with #).
 */
export function directKey(a: string, b: string): string {
  const [x, y] = [fold(a), fold(b)].sort();
  return `@${x} ${y}`;
}

/** Others' joins, parts and quits in a big room, which digest-showing encoders skip. */
function isBulkRoster(event: ChatEvent): boolean {
  return (
    (event.type === 'joined' || event.type === 'left' || event.type === 'quit') &&
    event.bulk === true
  );
}
