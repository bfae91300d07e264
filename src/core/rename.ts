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
 * Renames are remembered (the store's `room-renames` setting, the newest RENAMES_KEPT):
 * a client resuming with the old name in its token (JSON `hello` with `token`, `join`
 * with `since`) is led to the new room. A plain join of the old name is a join of a new
 * room of that name, as the spec's redirection is optional and irctest expects the
 * name to be free again.
 */
import type { Core } from './context.js';
import { ChatError, ErrorCode } from './errors.js';
import type { RenameEvent } from './events.js';
import { requireRegistered, requireRoom } from './membership.js';
import { checkRoom, fold } from './names.js';
import type { Session } from './session.js';
import { cleanText } from './text.js';

/** The store setting that remembers renames: JSON [[from (folded), to, at, by, reason]]. */
export const RENAMES_SETTING = 'room-renames';
/** How many renames are remembered for resuming clients. */
export const RENAMES_KEPT = 200;
/** Longest chain of renames followed (a → b → c …): bounds a lookup. */
const CHAIN_MAX = 16;

type Record = [from: string, to: string, at: number, by: string, reason: string];

/** A rename as remembered: enough to tell a resuming client what happened. */
export interface PastRename {
  /** The name asked for, as given. */
  room: string;
  /** What it is called now (the end of a chain of renames). */
  to: string;
  at: number;
  by: string;
  reason: string;
}

export class Renames {
  /** Folded names of renames this node has in flight (either side): two never cross. */
  private readonly pending = new Set<string>();

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
   * Remembers an applied rename (the node that made it writes it to the store, for
   * resuming clients on any node and after a restart).
   */
  async remember(e: RenameEvent): Promise<void> {
    const { core } = this;
    if (fold(e.room) === fold(e.newName)) return;
    const list = await this.load();
    const kept = list.filter(([from]) => from !== fold(e.room));
    kept.push([fold(e.room), e.newName, e.ts, e.by.name, e.reason]);
    core.store.setSetting(RENAMES_SETTING, JSON.stringify(kept.slice(-RENAMES_KEPT)));
  }

  /**
   * What `name` is called now, when a rename moved it (following a chain of renames), or
   * null when it was never renamed or a room of that name exists again.
   */
  async current(name: string): Promise<PastRename | null> {
    if (this.core.rooms.get(name)) return null;
    const list = await this.load();
    if (list.length === 0) return null;
    const by = new Map(list.map((r) => [r[0], r]));
    let at = fold(name);
    let found: PastRename | null = null;
    for (let i = 0; i < CHAIN_MAX; i++) {
      const r = by.get(at);
      if (r === undefined) break;
      found = { room: name, to: r[1], at: r[2], by: r[3], reason: r[4] };
      at = fold(r[1]);
      if (this.core.rooms.get(r[1])) break;
    }
    return found;
  }

  private async load(): Promise<Record[]> {
    const raw = await this.core.store.getSetting(RENAMES_SETTING).catch(() => null);
    if (raw === null) return [];
    try {
      const v = JSON.parse(raw) as unknown;
      if (!Array.isArray(v)) return [];
      return v.filter(
        (r): r is Record =>
          Array.isArray(r) &&
          typeof r[0] === 'string' &&
          typeof r[1] === 'string' &&
          typeof r[2] === 'number' &&
          typeof r[3] === 'string' &&
          typeof r[4] === 'string',
      );
    } catch {
      return [];
    }
  }
}
