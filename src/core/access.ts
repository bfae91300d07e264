/**
 * One access policy for everything that shows a room to someone: its history (and
 * search), its member list, and its place in room lists. Every protocol asks here, so
 * a rule holds the same over telnet, IRC, the framed protocol and WebSocket.
 *
 * | who asks                 | history | members                      | listed |
 * | ------------------------ | ------- | ---------------------------- | ------ |
 * | a member                 | yes     | all                          | yes    |
 * | a server operator        | yes     | all                          | yes    |
 * | anyone else, public room | no      | all but the invisible (+i)   | yes    |
 * | anyone else, secret room | no      | no (as if there were no room)| no     |
 * | anyone, vanished room    | no      | no                           | no     |
 *
 * History needs membership: reading a room is joining it, so bans, keys, invite-only and
 * limits (checked at the join) all hold for history too. A secret room answers outsiders
 * exactly as a room that does not exist, so its name does not leak.
 */
import { ChatError, ErrorCode } from './errors.js';
import { fold, maskMatches } from './names.js';
import type { Room } from './room.js';
import type { Session } from './session.js';

export function isBanned(room: Room, s: Session, now: number): boolean {
  const real = realMask(s);
  return room.bans.some(
    (b) =>
      (b.expiresAt == null || b.expiresAt > now) &&
      (maskMatches(b.mask, s.mask) || (real !== null && maskMatches(b.mask, real))),
  );
}

/**
 * The mask with the connection's real address, when an operator changed the displayed
 * host (core/hosts.ts), else null: a ban on either applies, so a changed host hides from
 * no ban set on the address.
 */
export function realMask(s: Session): string | null {
  const address = s.conn.remoteAddress;
  return s.host === address ? null : `${s.name}!${s.user || s.name}@${address}`;
}

/** May `viewer` learn that `room` exists (room lists, WHOIS channels, NAMES)? */
export function mayList(viewer: Session, room: Room): boolean {
  return !room.modes.secret || room.has(viewer) || viewer.oper;
}

/** May `viewer` see who is in `room`? Invisible members are filtered by the caller. */
export function maySeeMembers(viewer: Session, room: Room): boolean {
  return mayList(viewer, room);
}

/** Whether the members shown to `viewer` may include invisible ones. */
export function seesInvisible(viewer: Session, room: Room): boolean {
  return room.has(viewer) || viewer.oper;
}

/** May `viewer` read `room`'s history (and search it)? */
export function mayRead(viewer: Session, room: Room | undefined): boolean {
  return room !== undefined && (room.has(viewer) || viewer.oper);
}

/** Throws the error an outsider gets for a room it may not read (no leak of secret rooms). */
export function requireReadable(viewer: Session, room: Room | undefined, name: string): Room {
  if (room && mayRead(viewer, room)) return room;
  if (!room || !mayList(viewer, room)) {
    throw new ChatError(ErrorCode.NoSuchRoom, `No such room: ${name}`, name);
  }
  throw new ChatError(ErrorCode.NotInRoom, `Join ${room.name} to read its history`, room.name);
}

/** Throws when `s` may not join `room` (ban, invite-only, key, limit). */
export function canJoin(
  s: Session,
  room: Room,
  key: string | undefined,
  arriving: boolean,
  now: number,
): void {
  if (s.oper) return;
  const invited = room.invited.has(fold(s.name));
  if (isBanned(room, s, now) && !invited) {
    throw new ChatError(ErrorCode.Banned, `You are banned from ${room.name}`, room.name);
  }
  // Arriving in the default room at registration: no mode can stop that (issue: a +i or
  // +k lobby stopped every new user from registering).
  if (arriving) return;
  if (room.modes.inviteOnly && !invited) {
    throw new ChatError(ErrorCode.InviteOnly, `${room.name} is invite only`, room.name);
  }
  if (room.modes.key !== null && room.modes.key !== key) {
    throw new ChatError(ErrorCode.BadKey, `${room.name} needs the right key`, room.name);
  }
  if (room.modes.limit > 0 && room.size >= room.modes.limit) {
    throw new ChatError(ErrorCode.RoomFull, `${room.name} is full`, room.name);
  }
}
