/**
 * Room and server moderation: kicks, invites, typed room changes (roles, flags, key,
 * limit, bans, mutes, owner), server operators, kills and server-wide bans. Each
 * operation checks against this node's replica and emits; the change happens when the
 * event is applied (rooms.ts), on every node holding the room.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Core } from './context.js';
import { realMask } from './access.js';
import { ChatError, ErrorCode } from './errors.js';
import type { Actor, ServerBanEvent } from './events.js';
import { nodeOf } from './ids.js';
import type { Identity } from './identity.js';
import { checkMask } from './masks.js';
import { requireMember, requireRoom } from './membership.js';
import { checkRoom, fold, maskMatches } from './names.js';
import { defaultModes, ROOM_FLAGS, type BanEntry, type Room, type RoomChange } from './room.js';
import type { Session } from './session.js';
import { cleanText } from './text.js';
import { Throttle } from './throttle.js';

/**
 * A room key (RFC 2812 2.3.1 `key`): 1 to 23 printable ASCII characters, no space; and
 * neither a comma (JOIN lists keys with commas) nor a leading ':' (IRC would read the key
 * in a MODE line as the last parameter, and members would be shown another key).
 */
export const KEY = /^[\x21-\x2b\x2d-\x39\x3b-\x7e][\x21-\x2b\x2d-\x7e]{0,22}$/;

export class Moderation {
  private readonly operAttempts: Throttle;

  constructor(
    private readonly core: Core,
    private readonly identity: Identity,
  ) {
    const o = core.options;
    this.operAttempts = new Throttle(o.loginBurst, o.loginPerMinute, core.clock);
  }

  /** The server itself, as the actor of what an administrator does. */
  serverActor(): Actor {
    const name = this.core.options.serverName;
    return { name, mask: name, account: null };
  }

  private requireOp(s: Session, room: Room): void {
    if (!s.oper && !room.isOp(s)) {
      throw new ChatError(ErrorCode.NeedOp, `You are not an operator of ${room.name}`, room.name);
    }
  }

  /** The member of `room` called `name`, spelled as they are, or a ChatError. */
  private async memberName(room: Room, name: string): Promise<string> {
    const person = await this.core.presence.lookup(name);
    if (!person) throw new ChatError(ErrorCode.NoSuchUser, `No one is called ${name}`, name);
    const local = this.core.sessions.named(person.name);
    const present = local ? room.has(local) : room.remote.has(fold(person.name));
    if (!present) {
      throw new ChatError(
        ErrorCode.NotInRoom,
        `${person.name} is not in ${room.name}`,
        person.name,
      );
    }
    return person.name;
  }

  async kick(s: Session, roomName: string, targetName: string, reason: string): Promise<void> {
    const { core } = this;
    const room = s.oper ? requireRoom(core, roomName) : requireMember(core, s, roomName);
    this.requireOp(s, room);
    const name = await this.memberName(room, targetName);
    await this.emitKick(room, s.actor(), s.id, name, reason || s.name);
  }

  private emitKick(room: Room, by: Actor, origin: string, name: string, reason: string) {
    const { core } = this;
    // Fan-out precedes the apply (hub.ts), so the one kicked is told before they leave.
    return core.emit(
      {
        type: 'kick',
        ts: core.clock.now(),
        origin,
        room: room.name,
        by,
        name,
        reason: cleanText(reason, core.options.topicLength),
      },
      { rooms: [room.key] },
    );
  }

  async invite(s: Session, targetName: string, roomName: string): Promise<string> {
    const { core } = this;
    checkRoom(roomName, core.options.roomNameLength);
    const target = await core.presence.lookup(targetName);
    if (!target) {
      throw new ChatError(ErrorCode.NoSuchUser, `No one is called ${targetName}`, targetName);
    }
    const room = core.rooms.get(roomName);
    if (room) {
      if (!room.has(s) && !s.oper) {
        throw new ChatError(ErrorCode.NotInRoom, `You are not in ${room.name}`, room.name);
      }
      const local = core.sessions.named(target.name);
      if ((local && room.has(local)) || room.remote.has(fold(target.name))) {
        throw new ChatError(
          ErrorCode.AlreadyInRoom,
          `${target.name} is already in ${room.name}`,
          target.name,
        );
      }
      if (room.modes.inviteOnly) this.requireOp(s, room);
    }
    await core.emit(
      {
        type: 'invite',
        ts: core.clock.now(),
        origin: s.id,
        room: room?.name ?? roomName,
        by: s.actor(),
        name: target.name,
      },
      { nodes: [nodeOf(target.origin)], ...(room ? { rooms: [room.key] } : {}) },
    );
    return target.name;
  }

  /**
   * Applies room changes that `s` may make: each is checked and normalised against the
   * room as it is (no-ops dropped); the rest are emitted as one event and returned.
   */
  async change(s: Session, roomName: string, changes: RoomChange[]): Promise<RoomChange[]> {
    const room = requireRoom(this.core, roomName);
    this.requireOp(s, room);
    return this.emitChanges(room, s.actor(), s.id, await this.normalise(room, changes));
  }

  private async emitChanges(
    room: Room,
    by: Actor,
    origin: string,
    applied: RoomChange[],
  ): Promise<RoomChange[]> {
    const { core } = this;
    if (applied.length === 0) return applied;
    await core.emit(
      { type: 'mode', ts: core.clock.now(), origin, room: room.name, by, changes: applied },
      { rooms: [room.key] },
    );
    return applied;
  }

  private async normalise(room: Room, changes: RoomChange[]): Promise<RoomChange[]> {
    const { core } = this;
    const m = room.modes;
    const out: RoomChange[] = [];
    let bans = room.bans.length;
    for (const c of changes) {
      switch (c.kind) {
        case 'flag':
          if (m[c.flag] !== c.on) out.push(c);
          break;
        case 'key':
          if (c.key !== null && !KEY.test(c.key)) {
            throw new ChatError(
              ErrorCode.BadRequest,
              'A key is 1 to 23 characters: no spaces or commas, not starting with ":"',
            );
          }
          if (c.key !== m.key && !(c.key === null && m.key === null)) out.push(c);
          break;
        case 'limit':
          if (!Number.isInteger(c.limit) || c.limit < 0 || c.limit > 1_000_000) {
            throw new ChatError(ErrorCode.BadRequest, 'A limit is a positive number');
          }
          if (c.limit !== m.limit) out.push(c);
          break;
        case 'role': {
          const name = await this.memberName(room, c.name);
          const local = core.sessions.named(name);
          const roles = local
            ? (room.local.get(local) ?? 0)
            : (room.remote.get(fold(name))?.roles ?? 0);
          const bit = c.role === 'op' ? 1 : 2;
          if (((roles & bit) !== 0) !== c.on) out.push({ ...c, name });
          break;
        }
        case 'ban': {
          const mask = checkMask(c.mask);
          const exists = room.bans.some((b) => fold(b.mask) === fold(mask));
          if (c.on && !exists && ++bans > core.options.maxBansPerRoom) {
            throw new ChatError(
              ErrorCode.BadRequest,
              `${room.name} has the most bans it may have (${core.options.maxBansPerRoom})`,
              room.name,
            );
          }
          // Setting an existing ban again updates its reason and expiry.
          if (c.on || exists) {
            out.push({
              ...c,
              mask,
              ...(c.reason !== undefined
                ? { reason: cleanText(c.reason, core.options.topicLength) }
                : {}),
            });
          }
          break;
        }
        case 'mute':
          out.push(c);
          break;
        case 'owner':
          if (c.account !== room.owner) out.push(c);
          break;
      }
    }
    return out;
  }

  /**
   * Bans a name (or an IRC mask) from a room, for `durationMs` or until lifted, and kicks
   * the person if present.
   */
  async ban(
    s: Session,
    roomName: string,
    target: string,
    reason: string,
    durationMs: number | null,
  ): Promise<string> {
    const { core } = this;
    const room = requireRoom(core, roomName);
    this.requireOp(s, room);
    const mask = checkMask(target);
    const expiresAt = durationMs === null ? null : core.clock.now() + durationMs;
    const [applied] = await this.emitChanges(
      room,
      s.actor(),
      s.id,
      await this.normalise(room, [{ kind: 'ban', mask, on: true, reason, expiresAt }]),
    );
    const present = await core.presence.lookup(target);
    if (present) {
      const local = core.sessions.named(present.name);
      if ((local && room.has(local)) || room.remote.has(fold(present.name))) {
        const why = applied?.kind === 'ban' && applied.reason ? applied.reason : 'banned';
        await this.emitKick(room, s.actor(), s.id, present.name, why);
      }
    }
    return mask;
  }

  async unban(s: Session, roomName: string, target: string): Promise<void> {
    await this.change(s, roomName, [{ kind: 'ban', mask: target, on: false }]);
  }

  /** Silences someone in a room for `durationMs` (or until lifted with `unmute`). */
  async mute(
    s: Session,
    roomName: string,
    targetName: string,
    durationMs: number | null,
  ): Promise<void> {
    const { core } = this;
    const target = await core.presence.lookup(targetName);
    if (!target) {
      throw new ChatError(ErrorCode.NoSuchUser, `No one is called ${targetName}`, targetName);
    }
    const until = durationMs === null ? null : core.clock.now() + durationMs;
    await this.change(s, roomName, [{ kind: 'mute', name: target.name, until, on: true }]);
  }

  async unmute(s: Session, roomName: string, targetName: string): Promise<void> {
    const room = requireRoom(this.core, roomName);
    this.requireOp(s, room);
    if (!room.mutes.has(fold(targetName))) {
      throw new ChatError(
        ErrorCode.BadRequest,
        `${targetName} is not muted in ${room.name}`,
        targetName,
      );
    }
    await this.change(s, roomName, [{ kind: 'mute', name: targetName, until: null, on: false }]);
  }

  /** An identified account takes permanent ownership of a room it operates. */
  async claim(s: Session, roomName: string): Promise<Room> {
    const room = requireMember(this.core, s, roomName);
    if (!s.account) {
      throw new ChatError(
        ErrorCode.PermissionDenied,
        'Identify with an account first (/register or /identify)',
      );
    }
    if (room.owner && fold(room.owner) !== fold(s.account)) {
      throw new ChatError(
        ErrorCode.PermissionDenied,
        `${room.name} is owned by ${room.owner}`,
        room.name,
      );
    }
    this.requireOp(s, room);
    await this.change(s, room.name, [{ kind: 'owner', account: s.account }]);
    return room;
  }

  /** Server operator login (IRC OPER, line /oper), throttled per address. */
  oper(s: Session, name: string, password: string): boolean {
    this.operAttempts.take(s.conn.remoteAddress, 'operator login attempts');
    const expected = this.core.options.opers.get(name);
    if (expected === undefined || !constantTimeEqual(expected, password)) {
      this.core.log.warn({ id: s.id, name: s.name, oper: name }, 'failed oper attempt');
      return false;
    }
    this.core.sessions.setFlag(s, 'oper', true);
    this.core.log.info({ id: s.id, name: s.name, oper: name }, 'oper');
    return true;
  }

  /** Server operator removes someone from the server (on whatever node they are). */
  async kill(s: Session, targetName: string, reason: string): Promise<string> {
    if (!s.oper) {
      throw new ChatError(ErrorCode.PermissionDenied, 'Only server operators can do that');
    }
    const target = await this.core.presence.lookup(targetName);
    if (!target) {
      throw new ChatError(ErrorCode.NoSuchUser, `No one is called ${targetName}`, targetName);
    }
    await this.end(target.origin, `Killed by ${s.name}: ${cleanText(reason, 200)}`, s.id);
    return target.name;
  }

  /** Ends the session `target` on whatever node holds it; resolves once that node has. */
  end(target: string, reason: string, origin = this.core.nodeId): Promise<void> {
    const { core } = this;
    return core.emit(
      { type: 'kill', ts: core.clock.now(), origin, target, reason },
      { nodes: [nodeOf(target)] },
    );
  }

  // ---- server-wide bans and administration (admin console) -----------------------------

  async banServerWide(
    target: string,
    reason: string,
    durationMs: number | null,
    by = 'server',
  ): Promise<BanEntry> {
    const { core } = this;
    const mask = checkMask(target);
    const entry: BanEntry = {
      mask,
      by,
      at: core.clock.now(),
      reason: cleanText(reason, core.options.topicLength),
      expiresAt: durationMs === null ? null : core.clock.now() + durationMs,
    };
    await core.emit(
      {
        type: 'serverban',
        ts: entry.at,
        origin: core.nodeId,
        mask,
        on: true,
        reason: entry.reason ?? '',
        expiresAt: entry.expiresAt ?? null,
        by,
      },
      { everyone: true },
    );
    return entry;
  }

  async unbanServerWide(target: string): Promise<boolean> {
    const { core } = this;
    const mask = checkMask(target);
    if (!this.identity.serverBans.some((b) => fold(b.mask) === fold(mask))) return false;
    await core.emit(
      {
        type: 'serverban',
        ts: core.clock.now(),
        origin: core.nodeId,
        mask,
        on: false,
        reason: '',
        expiresAt: null,
        by: 'server',
      },
      { everyone: true },
    );
    return true;
  }

  /** Applies a server ban event here: keeps it, and ends the local sessions it matches. */
  applyServerBan(e: ServerBanEvent): void {
    const { core } = this;
    const bans = this.identity.serverBans;
    const i = bans.findIndex((b) => fold(b.mask) === fold(e.mask));
    if (i >= 0) bans.splice(i, 1);
    const ours = nodeOf(e.origin) === core.nodeId;
    if (!e.on) {
      if (ours) core.roomStates.deleteBan('*', 'ban', e.mask);
      return;
    }
    const entry: BanEntry = {
      mask: e.mask,
      by: e.by,
      at: e.ts,
      reason: e.reason,
      expiresAt: e.expiresAt,
    };
    bans.push(entry);
    if (ours) core.roomStates.saveBan('*', 'ban', e.mask, entry);
    for (const s of [...core.sessions]) {
      const real = realMask(s);
      if (s.registered && (maskMatches(e.mask, s.mask) || (real && maskMatches(e.mask, real)))) {
        s.closeReason = `banned from this server${e.reason ? `: ${e.reason}` : ''}`;
        s.holdName = false;
        core.disconnect(s, s.closeReason);
      }
    }
  }

  /** Admin console: makes someone an operator of a room (or takes it away). */
  async adminRole(roomName: string, name: string, on: boolean): Promise<RoomChange[]> {
    const room = requireRoom(this.core, roomName);
    return this.emitChanges(
      room,
      this.serverActor(),
      this.core.nodeId,
      await this.normalise(room, [{ kind: 'role', role: 'op', name, on }]),
    );
  }

  /** Admin console: the room's flags, key and limit back to the defaults. */
  async adminReset(roomName: string): Promise<RoomChange[]> {
    const room = requireRoom(this.core, roomName);
    const d = defaultModes();
    const changes: RoomChange[] = ROOM_FLAGS.map((flag) => ({
      kind: 'flag' as const,
      flag,
      on: d[flag],
    }));
    changes.push({ kind: 'key', key: null }, { kind: 'limit', limit: 0 });
    return this.emitChanges(
      room,
      this.serverActor(),
      this.core.nodeId,
      await this.normalise(room, changes),
    );
  }
}

/** Compares secrets in constant time (hashing first makes the lengths equal). */
function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
