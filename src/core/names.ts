/**
 * Name and room rules shared by every protocol, so a name valid on the line protocol is a
 * valid IRC nick and the reverse. Comparison is ASCII case-insensitive (ISUPPORT CASEMAPPING=ascii).
 */
import { ChatError, ErrorCode } from './errors.js';
import { wildcardMatch } from './wildcard.js';

const NAME_FIRST = /^[A-Za-z_[\]\\`^{|}]/;
const NAME_REST = /^[A-Za-z0-9_[\]\\`^{|}-]*$/;

/**
 * Names the server itself speaks as (IRC services): nobody may take them, or they would
 * receive the passwords others send to `NickServ IDENTIFY`. Folded.
 */
const RESERVED = new Set([
  'nickserv',
  'chanserv',
  'operserv',
  'memoserv',
  'hostserv',
  'botserv',
  'saslserv',
  'global',
  'services',
]);

const HAS_UPPER_ASCII = /[A-Z]/;

/**
 * ASCII lower-casing, exactly what ISUPPORT CASEMAPPING=ascii promises IRC clients:
 * `String.toLowerCase` would also fold non-ASCII letters in room names, so two rooms an
 * IRC client tells apart would be one here.
 */
export function fold(s: string): string {
  if (!HAS_UPPER_ASCII.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : s[i];
  }
  return out;
}

/** True for names kept for the server's own services (NickServ, ...). */
export function isReservedName(name: string): boolean {
  return RESERVED.has(fold(name));
}

/** Returns null when the name is acceptable, or a reason a person can act on. */
export function nameProblem(name: string, maxLength: number): string | null {
  if (name.length === 0) return 'a name cannot be empty';
  if (name.length > maxLength) return `a name is at most ${maxLength} characters`;
  // Names are IRC nicks, which every IRC client can type and compare: ASCII only.
  if (!NAME_FIRST.test(name))
    return 'a name starts with an ASCII letter (a-z, A-Z) or one of _[]\\`^{|}';
  if (!NAME_REST.test(name))
    return 'a name may only contain ASCII letters (a-z, A-Z), digits and _-[]\\`^{|}';
  if (isReservedName(name)) return `${name} is reserved for the server's services`;
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

/**
 * RFC 2812 2.3.1: no space, comma, BELL or colon in channel names. Beyond that, nothing
 * that makes two rooms look alike or changes how text around the name is shown: controls
 * (C0, C1), any Unicode space or separator, and format characters (Cf: bidi overrides and
 * isolates, zero-width spaces and joiners, BOM), and U+FFFD, which only a decoding
 * accident produces (telnet without BINARY once made `#日本` into `#日\uFFFD`).
 */
const ROOM_BAD = /[\s,:\p{Cc}\p{Cf}\p{Z}\p{Co}\p{Cs}\p{Cn}\uFFFD]/u;

export function roomProblem(room: string, maxLength: number): string | null {
  if (!room.startsWith('#')) return 'a room name starts with #';
  if (room.length < 2) return 'a room name needs at least one character after #';
  if (room.length > maxLength) return `a room name is at most ${maxLength} characters`;
  if (ROOM_BAD.test(room))
    return 'a room name cannot contain spaces, commas, colons, control or invisible formatting characters';
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
