/**
 * Name and room rules shared by every protocol, so a name valid on the line protocol is a
 * valid IRC nick and the reverse. Comparison is ASCII case-insensitive (ISUPPORT CASEMAPPING=ascii).
 */
import { ChatError, ErrorCode } from './errors.js';
import { wildcardMatch } from './wildcard.js';

const NAME_FIRST = /^[A-Za-z_[\]\\`^{|}]/;
const NAME_REST = /^[A-Za-z0-9_[\]\\`^{|}-]*$/;

/** ASCII lower-casing: cheap, and what CASEMAPPING=ascii promises IRC clients. */
export function fold(s: string): string {
  return s.toLowerCase();
}

/** Returns null when the name is acceptable, or a reason a person can act on. */
export function nameProblem(name: string, maxLength: number): string | null {
  if (name.length === 0) return 'a name cannot be empty';
  if (name.length > maxLength) return `a name is at most ${maxLength} characters`;
  if (!NAME_FIRST.test(name)) return 'a name must start with a letter or one of _[]\\`^{|}';
  if (!NAME_REST.test(name)) return 'a name may only contain letters, digits and _-[]\\`^{|}';
  return null;
}

export function checkName(name: string, maxLength: number): void {
  const problem = nameProblem(name, maxLength);
  if (problem)
    throw new ChatError(ErrorCode.NameInvalid, `Invalid name "${name}": ${problem}`, name);
}

/** Room names start with '#'; the line protocol lets people leave it off. */
export function normalizeRoom(input: string): string {
  return input.startsWith('#') ? input : `#${input}`;
}

// RFC 2812 2.3.1: no space, comma, BELL or colon in channel names; we also refuse other controls.
const ROOM_BAD = /[\s,:\x00-\x1f\x7f]/;

export function roomProblem(room: string, maxLength: number): string | null {
  if (!room.startsWith('#')) return 'a room name starts with #';
  if (room.length < 2) return 'a room name needs at least one character after #';
  if (room.length > maxLength) return `a room name is at most ${maxLength} characters`;
  if (ROOM_BAD.test(room))
    return 'a room name cannot contain spaces, commas, colons or control characters';
  return null;
}

export function checkRoom(room: string, maxLength: number): void {
  const problem = roomProblem(room, maxLength);
  if (problem)
    throw new ChatError(ErrorCode.RoomInvalid, `Invalid room "${room}": ${problem}`, room);
}

/** Matches IRC-style masks (`*` and `?` wildcards), case-insensitively, in linear time. */
export function maskMatches(mask: string, subject: string): boolean {
  return wildcardMatch(fold(mask), fold(subject));
}
