/**
 * Renaming a room (IRCv3 draft/channel-rename, ircv3.net/specs/extensions/channel-rename):
 * a room operator (or a server operator) gives a room a new name, and everything the room
 * holds follows it — members and their roles, topic, modes, key, limit, bans, mutes,
 * invites, owner — on every node (rooms.ts applies the `rename` event), and in the store:
 * its history, kept settings, bans and read markers are rewritten to the new name
 * (Store.renameRoom), so history, search, CHATHISTORY and `/since` find the old messages
 * under the new name.
 *
 * A name is free when nothing is known under it: no room with members (on any node),
 * no kept settings, bans or mutes, no stored history. So the store's rows never merge two
 * rooms. A rename that only changes case is always allowed (the spec says MUST).
 *
 * Renames are remembered (the store's renames, one row per old name, the newest
 * RENAMES_KEPT, written by every node that applied the rename; and what this node applied,
 * at once): a client resuming with the old name in its token (JSON `hello` with `token`,
 * `join` with `since`) is led to the new room, and a name's saved reading positions
 * (telnet's "you missed") follow the room (`follow`): a position is a message id, which
 * carries its time, so a position from before the rename belongs to the renamed room and
 * one from after to a new room of the old name, whichever node wrote it and whenever that
 * write landed.
 *
 * For `--rename-grace` after a rename (the spec's optional redirection), a join of the old
 * name by someone who was not in the room is led to the new name (`redirect`): IRC with
 * draft/channel-rename gets `FAIL JOIN CHANNEL_RENAMED`, everyone else is told and joined
 * to the room under its new name (the spec's 470 for IRC). A member of the renamed room
 * saw the rename, so for them (and for anyone once a room of the old name exists again,
 * or after the grace) the old name is free: a new room (irctest's channel-rename test
 * makes one at once). A room operator cannot rename a room again within
 * `--rename-cooldown` (the spec's "renamed recently"; a change of case and server
 * operators excepted).
 */
import type { Core } from './context.js';
import { ChatError, ErrorCode } from './errors.js';
import type { RenameEvent } from './events.js';
import { requireRegistered, requireRoom } from './membership.js';
import { checkRoom, fold } from './names.js';
import type { RenameRecord } from './ports.js';
import type { Session } from './session.js';
import { cleanText } from './text.js';

/**
 * The store setting that remembered renames before the store kept them one by one: JSON
 * [[from (folded), to, at, by, reason]], which each rename read, changed and wrote back (two
 * nodes renaming at once lost one). Existing deployments have it: read once, into the
 * store's renames, then deleted.
 */
export const LEGACY_RENAMES_SETTING = 'room-renames';
/** How many renames are remembered for resuming clients. */
export const RENAMES_KEPT = 200;
/** Longest chain of renames followed (a → b → c …): bounds a lookup. */
const CHAIN_MAX = 16;
/** Renames this node applied, kept at most this many (the oldest go first). */
const APPLIED_KEPT = 1000;
/** Milliseconds in a message id's time (ids.ts: ms × 10^6 + …). */
const ID_MS = 1_000_000n;

/** A rename as remembered: enough to tell a resuming client what happened. */
export interface PastRename {
  /** The name asked for, as given. */
  room: string;
  /** What it is called now (the end of a chain of renames). */
  to: string;
  at: number;
  by: string;
  reason: string;
  /** When the name asked for was renamed away (the first of a chain). */
  left: number;
}

export class Renames {
  /** Folded names of renames this node has in flight (either side): two never cross. */
  private readonly pending = new Set<string>();
  /**
   * Renames this node applied, by folded old name: known here at once, before (and
   * whether or not) the store has the record the renaming node writes.
   */
  private readonly applied = new Map<string, RenameRecord>();
  /** The legacy setting's renames moved into the store (once; again after a failure). */
  private imported: Promise<void> | null = null;

  constructor(private readonly core: Core) {}

  /**
   * Renames `oldName` to `newName` for `s` (a member and operator of the room, or a server
   * operator), or for the server itself (`s` null: the admin console). Resolves once the
   * rename has been applied here.
   */
  async rename(
    s: Session | null,
    oldName: string,
    newName: string,
    reason: string,
  ): Promise<RenameEvent> {
    const { core } = this;
    if (s) requireRegistered(s);
    const room = requireRoom(core, oldName);
    const spelled = room.name;
    if (s && !s.oper) {
      if (!room.has(s)) {
        throw new ChatError(ErrorCode.NotInRoom, `You are not in ${room.name}`, room.name);
      }
      if (!room.isOp(s)) {
        throw new ChatError(ErrorCode.NeedOp, `You are not an operator of ${room.name}`, room.name);
      }
    }
    checkRoom(newName, core.options.roomNameLength);
    if (newName === room.name) {
      throw new ChatError(ErrorCode.CannotRename, `${room.name} is already called that`, room.name);
    }
    const caseOnly = fold(newName) === room.key;
    if (!caseOnly && (core.rooms.isDefault(room) || core.rooms.isDefault(newName))) {
      throw new ChatError(
        ErrorCode.CannotRename,
        `${core.options.defaultRoom} is where everyone lands: it cannot be renamed, nor can another room take its name`,
        room.name,
      );
    }
    const keys = caseOnly ? [room.key] : [room.key, fold(newName)];
    if (keys.some((k) => this.pending.has(k))) {
      throw new ChatError(
        ErrorCode.CannotRename,
        `${room.name} or ${newName} is being renamed right now; try again`,
        room.name,
      );
    }
    for (const k of keys) this.pending.add(k);
    try {
      if (s && !s.oper && !caseOnly) await this.checkCooldown(room.key, room.name);
      if (!caseOnly && (await this.inUse(newName))) {
        throw new ChatError(
          ErrorCode.RoomNameInUse,
          `${newName} is already taken (a room with members, settings or history)`,
          newName,
        );
      }
      // The awaits above let the room change: it must still be there under the name it
      // had (the same Room object takes a new name when another rename is applied here).
      if (room.name !== spelled || core.rooms.get(spelled) !== room) {
        throw new ChatError(
          ErrorCode.CannotRename,
          `${spelled} was renamed just now${room.name !== spelled ? ` (to ${room.name})` : ''}`,
          spelled,
        );
      }
      const now = room;
      const by = s
        ? s.actor()
        : { name: core.options.serverName, mask: core.options.serverName, account: null };
      const event: RenameEvent = {
        type: 'rename',
        ts: core.clock.now(),
        origin: s ? s.id : core.nodeId,
        room: now.name,
        newName,
        by,
        reason: cleanText(reason, core.options.topicLength),
      };
      await core.emit(event, { rooms: [now.key], nodes: [core.nodeId] });
      return event;
    } finally {
      for (const k of keys) this.pending.delete(k);
    }
  }

  /** The spec's "This channel has been renamed recently" (`--rename-cooldown`). */
  private async checkCooldown(key: string, name: string): Promise<void> {
    const cooldown = this.core.options.renameCooldownMs;
    if (cooldown <= 0) return;
    let last = 0;
    for (const r of await this.records()) if (fold(r.to) === key && r.at > last) last = r.at;
    const wait = last + cooldown - this.core.clock.now();
    if (wait > 0) {
      throw new ChatError(
        ErrorCode.CannotRename,
        `${name} was renamed recently; it can be renamed again in ${Math.ceil(wait / 1000)} s`,
        name,
      );
    }
  }

  /** Something is known under `name`: members anywhere, kept state, or history. */
  private async inUse(name: string): Promise<boolean> {
    const { core } = this;
    if (core.rooms.get(name)) return true;
    if ((await core.presence.members(name)) !== null) return true;
    if (core.roomStates.knows(name)) return true;
    const [last] = await core.store.history({ room: name, limit: 1 });
    return last !== undefined;
  }

  /**
   * Remembers an applied rename in the store, for resuming clients on any node and after a
   * restart: one row per old name, queued, so renames made at once on several nodes all
   * stay. Every node that applies the rename writes it (the same row), since the node that
   * made it may die before applying it (hub.ts).
   */
  remember(e: RenameEvent): void {
    if (fold(e.room) === fold(e.newName)) return;
    this.core.store.saveRename(recordOf(e), RENAMES_KEPT);
  }

  /** A rename applied on this node (every node that held the room): known here at once. */
  noteApplied(e: RenameEvent): void {
    const key = fold(e.room);
    if (key === fold(e.newName)) return;
    this.applied.delete(key);
    this.applied.set(key, recordOf(e));
    if (this.applied.size > APPLIED_KEPT) {
      const oldest = this.applied.keys().next().value;
      if (oldest !== undefined) this.applied.delete(oldest);
    }
  }

  /**
   * Where a name that was here before a rename would be led on joining `name`, or null:
   * within `--rename-grace` of `name` being renamed away, while no room of that name
   * exists (here or, in a cluster, anywhere), unless `s` is in the renamed room (it saw
   * the rename: it means the old name) or `name` is the default room.
   */
  async redirect(s: Session, name: string): Promise<PastRename | null> {
    const { core } = this;
    const grace = core.options.renameGraceMs;
    if (grace <= 0 || core.rooms.isDefault(name)) return null;
    const past = await this.current(name);
    if (!past || core.clock.now() - past.left > grace) return null;
    if (core.rooms.get(past.to)?.has(s)) return null;
    if ((await core.presence.members(name)) !== null) return null;
    return past;
  }

  /**
   * Reading positions (room as spelled → message id) with each moved to the name its room
   * has now: a rename after the position (by the id's time) moves it, one before it does
   * not (the position is in a new room of that name). Two positions ending in one room
   * keep the further one.
   */
  async follow(positions: { [room: string]: string }): Promise<{ [room: string]: string }> {
    if (Object.keys(positions).length === 0) return positions;
    const list = await this.records();
    if (list.length === 0) return positions;
    const byFrom = new Map<string, RenameRecord[]>();
    for (const r of list) {
      const mine = byFrom.get(r.from);
      if (mine) mine.push(r);
      else byFrom.set(r.from, [r]);
    }
    const out: { [room: string]: string } = {};
    const keyed = new Map<string, string>();
    for (const [room, id] of Object.entries(positions)) {
      let name = room;
      let at = messageTime(id);
      for (let i = 0; at !== null && i < CHAIN_MAX; i++) {
        // The first rename of this name at or after the position: the room it was in.
        const from = at;
        const r = byFrom.get(fold(name))?.find((x) => x.at >= from);
        if (r === undefined) break;
        name = r.to;
        at = r.at;
      }
      const was = keyed.get(fold(name));
      if (was !== undefined) {
        if (BigInt(out[was] as string) >= BigInt(id)) continue;
        delete out[was];
      }
      keyed.set(fold(name), name);
      out[name] = id;
    }
    return out;
  }

  /**
   * What `name` is called now, when a rename moved it (following a chain of renames), or
   * null when it was never renamed or a room of that name exists again.
   */
  async current(name: string): Promise<PastRename | null> {
    if (this.core.rooms.get(name)) return null;
    // One store lookup per name of the chain (a join of a name never renamed: one lookup
    // that finds nothing), each name looked up once even if the chain comes back to it.
    const seen = new Map<string, RenameRecord | null>();
    let at = fold(name);
    let found: PastRename | null = null;
    let left: number | null = null;
    for (let i = 0; i < CHAIN_MAX; i++) {
      let r = seen.get(at);
      if (r === undefined) {
        r = await this.latest(at);
        seen.set(at, r);
      }
      if (r === null) break;
      left ??= r.at;
      found = { room: name, to: r.to, at: r.at, by: r.by, reason: r.reason, left };
      at = fold(r.to);
      if (this.core.rooms.get(r.to)) break;
    }
    return found;
  }

  /** The latest rename of the old name `key` (folded): the store's or one applied here. */
  private async latest(key: string): Promise<RenameRecord | null> {
    await this.importLegacy();
    const stored = await this.core.store.renamedFrom(key).catch(() => null);
    const mine = this.applied.get(key);
    if (mine === undefined) return stored;
    return stored === null || mine.at > stored.at ? mine : stored;
  }

  /**
   * The stored renames and this node's applied ones, oldest first (a name renamed twice:
   * the later counts, as in the store).
   */
  private async records(): Promise<RenameRecord[]> {
    await this.importLegacy();
    const stored = await this.core.store.renames(RENAMES_KEPT).catch(() => []);
    if (this.applied.size === 0) return stored;
    const known = new Set(stored.map((r) => `${r.from} ${r.at}`));
    const all = [
      ...stored,
      ...[...this.applied.values()].filter((r) => !known.has(`${r.from} ${r.at}`)),
    ];
    return all.sort((a, b) => a.at - b.at);
  }

  /**
   * Moves the legacy setting's renames into the store's (LEGACY_RENAMES_SETTING), once per
   * process: the upsert keeps the later of two records of a name, so it may run beside
   * new renames, on several nodes at once, or again. The setting is deleted only as it was
   * read: a node of the previous version that wrote it meanwhile keeps its list for the
   * next start to bring in.
   */
  private importLegacy(): Promise<void> {
    this.imported ??= (async () => {
      const { store } = this.core;
      const raw = await store.getSetting(LEGACY_RENAMES_SETTING);
      if (raw === null) return;
      for (const r of legacyRecords(raw)) store.saveRename(r, RENAMES_KEPT);
      await store.pruneSettings?.(LEGACY_RENAMES_SETTING, (v) => v === raw);
    })().catch(() => {
      this.imported = null; // the store is away: the next lookup tries again
    });
    return this.imported;
  }
}

function recordOf(e: RenameEvent): RenameRecord {
  return { from: fold(e.room), to: e.newName, at: e.ts, by: e.by.name, reason: e.reason };
}

/** The well-formed records of the legacy setting's list, or none. */
function legacyRecords(raw: string): RenameRecord[] {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(v)) return [];
  const out: RenameRecord[] = [];
  for (const r of v as unknown[]) {
    if (
      Array.isArray(r) &&
      typeof r[0] === 'string' &&
      typeof r[1] === 'string' &&
      typeof r[2] === 'number' &&
      typeof r[3] === 'string' &&
      typeof r[4] === 'string'
    ) {
      out.push({ from: r[0], to: r[1], at: r[2], by: r[3], reason: r[4] });
    }
  }
  return out;
}

/** The time (ms) a message id was made at, or null for something that is not an id. */
function messageTime(id: string): number | null {
  return /^\d{1,19}$/.test(id) ? Number(BigInt(id) / ID_MS) : null;
}
