/**
 * This node's replicas of the rooms it has members in, changed only by applying events.
 * Every node applies the same events in the same order per room, so every replica of a
 * room ends in the same state: the membership, roles, topic, modes, bans, mutes, invites
 * and owner all come from `apply`. Operations (membership.ts, moderation.ts) only check
 * and emit.
 *
 * Only the node the event came from writes its consequences to the store (topics, modes,
 * bans), so a cluster stores each change once.
 */
import type { ChatEvent, JoinedEvent, ModeEvent, RenameEvent, RoomRestore } from './events.js';
import { nodeOf } from './ids.js';
import { fold } from './names.js';
import type { ServerOptions } from './options.js';
import type { Bus, RoomSnapshot } from './ports.js';
import { defaultModes, Role, Room, ROOM_FLAGS, type BanEntry, type RoomChange } from './room.js';
import type { RoomStates } from './room-state.js';
import type { Session } from './session.js';
import { SmallMap } from './small-map.js';
import type { Sessions } from './sessions.js';

/** How long an old name still finds a renamed room when applying late events (rooms.ts). */
const FORMERLY_MS = 60_000;

export class Rooms {
  private readonly map = new Map<string, Room>();
  /** Told when this node starts holding a room (shared room lists). */
  listed: ((room: string, name: string) => void) | null = null;

  constructor(
    private readonly nodeId: string,
    private readonly options: ServerOptions,
    private readonly sessions: Sessions,
    private readonly states: RoomStates,
    private readonly bus: Bus,
  ) {}

  get(name: string): Room | undefined {
    return this.map.get(fold(name));
  }

  /**
   * Rooms renamed lately, by their old folded name (and until when): an event about a
   * person in several rooms that a node sent before it heard of a rename names the old
   * one (the bus sends such an event on to the new name, but its copy for another room
   * may come first); applying it finds the room all the same.
   */
  private readonly formerly = new Map<string, { room: Room; until: number }>();

  /** The room `name` names for applying an event: as it is called, or was just now. */
  private held(name: string): Room | undefined {
    const room = this.get(name);
    if (room) return room;
    const was = this.formerly.get(fold(name));
    if (!was) return undefined;
    if (was.until < Date.now() || this.map.get(was.room.key) !== was.room) {
      this.formerly.delete(fold(name));
      return undefined;
    }
    return was.room;
  }

  list(): Room[] {
    return [...this.map.values()];
  }

  get count(): number {
    return this.map.size;
  }

  /** True when `name` is the room everyone lands in. */
  isDefault(room: Room | string): boolean {
    return fold(typeof room === 'string' ? room : room.name) === fold(this.options.defaultRoom);
  }

  /**
   * Before this node's first member joins a room: starts receiving its events, so none
   * that the cluster orders after the join is missed, and — on a bus that keeps rooms'
   * shared state — builds the replica from a snapshot, applying only the events after it.
   * Returns what the store remembers of a room the cluster knew nothing about, for the
   * join to hand on.
   */
  async prepare(name: string): Promise<RoomRestore | undefined> {
    const key = fold(name);
    if (this.map.has(key)) return undefined;
    this.bus.watch(key);
    if (!this.bus.snapshot) return undefined;
    const snap = await this.bus.snapshot(key);
    // Another join here read the room at the same time and built the replica: its snapshot
    // is the one the room's events go on from.
    if (this.map.has(key)) return undefined;
    const room = new Room(name, key, Date.now());
    let restore: RoomRestore | undefined;
    if (isEmpty(snap)) {
      // The cluster has nothing of this room: what this node's store kept is the state.
      this.states.restore(room);
      restore = restoreOf(room);
    } else fromSnapshot(room, snap);
    this.map.set(key, room);
    this.listed?.(key, room.name);
    this.bus.resume?.(key, { epoch: snap.epoch, next: snap.offset + 1 });
    return restore;
  }

  /** Replicas whose room is being read again (`retake`). */
  private readonly retaking = new Map<Room, Promise<void>>();

  /**
   * The room's epoch changed under this node's replica (BusSink.retake). With nobody here
   * in the room yet, only joins on their way, the replica is the snapshot it was built
   * from, and that snapshot is out of date: a rename moved another room onto this name
   * (docs/cluster.md, renaming a room), or Redis lost the room. Either way nobody here saw
   * any of its history, so nothing is lost for anyone here: the replica becomes the room's
   * snapshot read now, its events go on after it, and the joins on their way are
   * sequenced after it (the bus holds them until this settles). Null when someone here is
   * in the room: its history was lost, and this replica is what the cluster gets back
   * (RESTORE).
   */
  retake(key: string): Promise<void> | null {
    const room = this.map.get(key);
    if (!room || room.local.size > 0 || !this.bus.snapshot) return null;
    let taking = this.retaking.get(room);
    if (!taking) {
      taking = this.takeAgain(room).finally(() => this.retaking.delete(room));
      this.retaking.set(room, taking);
    }
    return taking;
  }

  private async takeAgain(room: Room): Promise<void> {
    const snap = await (this.bus.snapshot as NonNullable<Bus['snapshot']>)(room.key);
    // Dropped meanwhile (its joins failed): nothing to resume.
    if (this.map.get(room.key) !== room) return;
    fromSnapshot(room, snap);
    this.bus.resume?.(room.key, { epoch: snap.epoch, next: snap.offset + 1 });
  }

  /**
   * Applies what an event changes in the rooms this node holds. `offset`/`epoch`: where a
   * sequencing bus has it in the room's stream (BusSink.deliver).
   */
  apply(event: ChatEvent, offset?: number, epoch?: string): void {
    switch (event.type) {
      case 'joined':
        return this.joined(event, offset, epoch);
      case 'left': {
        const room = this.held(event.room);
        if (room) this.remove(room, event.who.name, event.origin);
        return;
      }
      case 'kick': {
        const room = this.held(event.room);
        if (room) this.remove(room, event.name, null);
        return;
      }
      case 'quit':
        for (const name of event.rooms) {
          const room = this.held(name);
          if (room) this.remove(room, event.who.name, event.origin);
        }
        return;
      case 'nick':
        for (const name of event.rooms) {
          const member = this.held(name)?.remote;
          const entry = member?.get(fold(event.who.name));
          if (member && entry) {
            member.delete(fold(event.who.name));
            member.set(fold(event.newName), { ...entry, name: event.newName });
          }
        }
        return;
      case 'away':
        for (const name of event.rooms) {
          const entry = this.held(name)?.remote.get(fold(event.who.name));
          if (entry) entry.away = event.message;
        }
        return;
      case 'account':
        for (const name of event.rooms) {
          const entry = this.held(name)?.remote.get(fold(event.who.name));
          if (entry) entry.account = event.who.account;
        }
        return;
      case 'realname':
        for (const name of event.rooms) {
          const entry = this.held(name)?.remote.get(fold(event.who.name));
          if (entry) entry.realname = event.realname;
        }
        return;
      case 'host':
        for (const name of event.rooms) {
          const entry = this.get(name)?.remote.get(fold(event.who.name));
          if (entry) entry.mask = `${event.who.name}!${event.user}@${event.host}`;
        }
        return;
      case 'topic': {
        const room = this.get(event.room);
        if (!room) return;
        room.topic = event.topic;
        room.topicBy = event.by.mask;
        room.topicAt = event.ts;
        if (this.ours(event.origin)) this.states.save(room);
        return;
      }
      case 'mode':
        return this.mode(event);
      case 'rename':
        return this.renamed(event);
      case 'invite': {
        const room = this.get(event.room);
        if (room) room.invited.add(fold(event.name));
        return;
      }
      case 'message': {
        // What the store keeps (messaging.ts `keep`): neither notices nor tags alone.
        if (event.kind === 'notice' || event.tagOnly) return;
        const room = this.get(event.room);
        if (room && (room.lastId === null || laterId(event.id, room.lastId))) {
          room.lastId = event.id;
        }
        return;
      }
      default:
        return;
    }
  }

  /**
   * The room takes its new name in place: the same Room object (sessions' room sets,
   * current rooms and every table keyed by it follow), members, roles, settings and all.
   */
  private renamed(e: RenameEvent): void {
    const room = this.get(e.room);
    if (!room) return;
    const from = room.key;
    const to = fold(e.newName);
    const other = this.map.get(to);
    // The rename's checks (and, in a cluster, its script) keep the new name free. A replica
    // of it held here only for joins on their way (nobody here in it yet: its snapshot was
    // read just before the rename) gives way: those joins land in the renamed room (the
    // bus sequences them in its epoch, redis-bus.ts `sequenceJoin`).
    if (other && other !== room) {
      if (other.local.size > 0) return;
      this.map.delete(to);
    }
    const oldName = room.name;
    room.name = e.newName;
    if (from !== to) {
      this.formerly.set(from, { room, until: Date.now() + FORMERLY_MS });
      for (const [k, was] of this.formerly) if (was.until < Date.now()) this.formerly.delete(k);
      this.map.delete(from);
      room.key = to;
      this.map.set(to, room);
      if (this.bus.renamed) this.bus.renamed(from, to);
      else {
        this.bus.unwatch(from);
        this.bus.watch(to);
      }
    }
    for (const s of room.local.keys()) {
      const mark = s.joinMarks?.get(from);
      if (mark !== undefined && from !== to) {
        s.joinMarks?.delete(from);
        s.joinMarks?.set(to, mark);
      }
      this.sessions.changed(s);
    }
    this.listed?.(to, room.name);
    this.states.renamed(oldName, room);
  }

  private ours(origin: string): boolean {
    return nodeOf(origin) === this.nodeId;
  }

  private joined(e: JoinedEvent, offset?: number, epoch?: string): void {
    const local = this.sessions.get(e.origin);
    let room = this.get(e.room);
    if (!room) {
      // A node holds a replica only while it has members; another node's joiner is news
      // here only if this node already holds the room.
      if (!local || local.closed) return;
      room = new Room(e.room, fold(e.room), e.ts);
      this.states.restore(room);
      this.map.set(room.key, room);
      this.bus.watch(room.key);
      this.listed?.(room.key, room.name);
    }
    if (room.size === 0) {
      room.founder = e.origin;
      room.createdAt = e.ts;
    }
    const roles = this.initialRoles(room, e);
    room.invited.delete(fold(e.who.name));
    if (local) {
      if (local.closed || room.local.has(local)) return;
      if (room.lastId !== null) (local.joinMarks ??= new SmallMap()).set(room.key, room.lastId);
      if (offset !== undefined && epoch !== undefined) {
        (local.joinOffsets ??= new SmallMap()).set(room.key, { epoch, offset, ts: e.ts });
      }
      room.local.set(local, roles);
      if (!local.encoder.skipsBulkRoster) room.bulkAudience++;
      local.rooms.add(room);
      local.current = room;
      this.sessions.changed(local);
    } else {
      room.remote.set(fold(e.who.name), {
        name: e.who.name,
        mask: e.who.mask,
        account: e.who.account,
        realname: e.realname,
        away: e.away ?? null,
        ...(e.who.bot ? { bot: true } : {}),
        roles,
        origin: e.origin,
      });
    }
  }

  /**
   * A room's first member becomes its operator, as on IRC, except in the default room
   * (everyone lands there: whoever came first after a start would own it) and in a
   * claimed room, whose owner's account is its operator instead.
   */
  private initialRoles(room: Room, e: JoinedEvent): number {
    if (room.owner !== null) {
      return e.who.account !== null && fold(e.who.account) === fold(room.owner) ? Role.Op : 0;
    }
    return room.size === 0 && !this.isDefault(room) ? Role.Op : 0;
  }

  /** Removes a member (local by origin when given, else by name). */
  private remove(room: Room, name: string, origin: string | null): void {
    const local = origin !== null ? this.sessions.get(origin) : this.sessions.named(name);
    if (local && room.local.has(local)) this.leaveLocal(room, local);
    else room.remote.delete(fold(name));
    this.dropIfEmpty(room);
  }

  /** A local session leaves a room now (its connection is gone, or an event says so). */
  leaveLocal(room: Room, s: Session): void {
    if (room.local.delete(s) && !s.encoder.skipsBulkRoster) room.bulkAudience--;
    s.rooms.delete(room);
    s.joinMarks?.delete(room.key);
    s.joinOffsets?.delete(room.key);
    if (s.current === room) s.current = s.rooms.first() ?? null;
    if (!s.closed) this.sessions.changed(s);
  }

  /** Forgets a replica this node has no members in any more. */
  dropIfEmpty(room: Room): void {
    if (room.local.size > 0 || this.map.get(room.key) !== room) return;
    this.map.delete(room.key);
    this.bus.unwatch(room.key);
    this.states.retire(room);
  }

  private mode(e: ModeEvent): void {
    const room = this.get(e.room);
    if (!room) return;
    const persist = this.ours(e.origin);
    let record = false;
    for (const c of e.changes) {
      if (applyChange(room, c, e, this.sessions)) record = true;
      if (!persist) continue;
      if (c.kind === 'ban') {
        if (c.on) {
          const entry = room.bans.find((b) => fold(b.mask) === fold(c.mask));
          if (entry) this.states.saveBan(room.name, 'ban', c.mask, entry);
        } else this.states.deleteBan(room.name, 'ban', c.mask);
      } else if (c.kind === 'mute') {
        if (c.on) {
          this.states.saveBan(room.name, 'mute', c.name, {
            by: e.by.mask,
            at: e.ts,
            expiresAt: c.until,
          });
        } else this.states.deleteBan(room.name, 'mute', c.name);
      }
    }
    if (persist && record) this.states.save(room);
  }
}

/**
 * Applies one change; returns true when it changed what the room record keeps (flags,
 * key, limit, owner), which is then saved.
 */
function applyChange(room: Room, c: RoomChange, e: ModeEvent, sessions: Sessions): boolean {
  const m = room.modes;
  switch (c.kind) {
    case 'flag':
      m[c.flag] = c.on;
      return true;
    case 'key':
      m.key = c.key;
      return true;
    case 'limit':
      m.limit = c.limit;
      return true;
    case 'owner':
      room.owner = c.account;
      return true;
    case 'role': {
      const bit = c.role === 'op' ? Role.Op : Role.Voice;
      const local = sessions.named(c.name);
      if (local && room.local.has(local)) {
        const roles = room.local.get(local) ?? 0;
        room.local.set(local, c.on ? roles | bit : roles & ~bit);
      } else {
        const remote = room.remote.get(fold(c.name));
        if (remote) remote.roles = c.on ? remote.roles | bit : remote.roles & ~bit;
      }
      return false;
    }
    case 'ban': {
      const i = room.bans.findIndex((b) => fold(b.mask) === fold(c.mask));
      if (c.on) {
        const entry: BanEntry = {
          mask: c.mask,
          by: e.by.mask,
          at: e.ts,
          ...(c.reason ? { reason: c.reason } : {}),
          expiresAt: c.expiresAt ?? null,
        };
        if (i >= 0) room.bans[i] = entry;
        else room.bans.push(entry);
      } else if (i >= 0) room.bans.splice(i, 1);
      return false;
    }
    case 'mute':
      if (c.on) room.mutes.set(fold(c.name), c.until);
      else room.mutes.delete(fold(c.name));
      return false;
  }
}

/** A snapshot of a room the cluster knows nothing about. */
function isEmpty(s: RoomSnapshot): boolean {
  return s.members.length === 0 && Object.keys(s.state).length === 0;
}

/**
 * Makes a replica the shared snapshot's room: settings (a default where the snapshot has
 * none), bans, mutes, invites, members. A replica built before (`retake`) is overwritten
 * whole.
 */
export function fromSnapshot(room: Room, s: RoomSnapshot): void {
  const st = s.state;
  const d = defaultModes();
  room.topic = st.topic ?? '';
  room.topicBy = st.topicBy ?? '';
  room.topicAt = st.topicAt !== undefined ? Number(st.topicAt) : 0;
  for (const flag of ROOM_FLAGS) {
    const v = st[`flag:${flag}`];
    room.modes[flag] = v !== undefined ? v === '1' : d[flag];
  }
  room.modes.key = st.key === undefined || st.key === '' ? null : st.key;
  room.modes.limit = Number(st.limit ?? 0) || 0;
  room.owner = st.owner === undefined || st.owner === '' ? null : st.owner;
  room.bans.splice(0, room.bans.length, ...s.bans);
  room.mutes.clear();
  for (const [name, until] of s.mutes) room.mutes.set(name, until);
  room.invited.clear();
  for (const name of s.invited) room.invited.add(name);
  room.remote.clear();
  for (const [key, member] of s.members) room.remote.set(key, member);
}

/** What a room restored from this node's store hands to the cluster's shared state. */
function restoreOf(room: Room): RoomRestore | undefined {
  const d = defaultModes();
  const changed =
    room.topic !== '' ||
    room.owner !== null ||
    room.bans.length > 0 ||
    room.mutes.size > 0 ||
    room.modes.key !== null ||
    room.modes.limit !== 0 ||
    ROOM_FLAGS.some((f) => room.modes[f] !== d[f]);
  if (!changed) return undefined;
  const fields: Record<string, string> = {
    topic: room.topic,
    topicBy: room.topicBy,
    topicAt: String(room.topicAt),
    key: room.modes.key ?? '',
    limit: String(room.modes.limit),
    owner: room.owner ?? '',
  };
  for (const flag of ROOM_FLAGS) fields[`flag:${flag}`] = room.modes[flag] ? '1' : '0';
  return { fields, bans: [...room.bans], mutes: [...room.mutes.entries()] };
}

/**
 * `a` is a later message id than `b`: decimal strings without leading zeros (ids.ts) compare
 * by length, then as text; no BigInt on the path of every message.
 */
export function laterId(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}
