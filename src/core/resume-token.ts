/**
 * Resume tokens: what a JSON or WebSocket client is handed on every welcome and at
 * shutdown, and gives back in its next `hello` to get its name back (within the name hold)
 * and what it missed.
 *
 *   v1.<payload>.<mac>     payload: base64url JSON {n, s, t, r}; mac: base64url
 *                          HMAC-SHA256(secret, "v1." + payload)
 *
 * Opaque to clients (they store and return it; nothing in it is theirs to change) and
 * signed with a secret the store keeps (`resume-secret` in its settings), so it survives
 * restarts and every node sharing the store accepts it. It carries the name, the session
 * that held it (the proof a name hold asks for: Presence.hold), when it was made, and the
 * last message id per room at that moment. Anyone holding a token is that session for
 * its name: it is a bearer secret, like a session cookie.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { MAX_TOKEN_LENGTH } from './options.js';

export interface ResumeClaims {
  /** The name the session had. */
  name: string;
  /** The session (node-qualified id) the token was made for. */
  session: string;
  /** When it was made (epoch ms). */
  issuedAt: number;
  /** Last message id per room, by the room's name as spelled. */
  rooms: Record<string, string>;
}

const VERSION = 'v1';
const MAC_BYTES = 32;
const DECIMAL_ID = /^\d{1,19}$/;
const MAX_ID = 9223372036854775807n;

/** A fresh secret for the store (hex, 256 bits). */
export function newResumeSecret(): string {
  return randomBytes(32).toString('hex');
}

export class ResumeTokens {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(secret, 'utf8');
  }

  issue(claims: ResumeClaims): string {
    const body = Buffer.from(
      JSON.stringify({ n: claims.name, s: claims.session, t: claims.issuedAt, r: claims.rooms }),
      'utf8',
    ).toString('base64url');
    return `${VERSION}.${body}.${this.mac(body).toString('base64url')}`;
  }

  /** The claims of a token this server made, or null for anything else. Never throws. */
  verify(token: unknown): ResumeClaims | null {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION) return null;
    const [, body, mac] = parts as [string, string, string];
    if (!isBase64url(body) || !isBase64url(mac)) return null;
    const given = Buffer.from(mac, 'base64url');
    // Only the canonical encoding of the right length: no second spelling of one token.
    if (given.length !== MAC_BYTES || given.toString('base64url') !== mac) return null;
    if (!timingSafeEqual(given, this.mac(body))) return null;
    let data: unknown;
    try {
      data = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    return claimsOf(data);
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update(`${VERSION}.${body}`).digest();
  }
}

function isBase64url(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95;
    if (!ok) return false;
  }
  return true;
}

/** A signed payload is ours, but its shape is checked anyway (an older version's, a bug). */
function claimsOf(data: unknown): ResumeClaims | null {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as Record<string, unknown>;
  if (typeof d.n !== 'string' || typeof d.s !== 'string' || typeof d.t !== 'number') return null;
  if (typeof d.r !== 'object' || d.r === null || Array.isArray(d.r)) return null;
  const rooms: Record<string, string> = {};
  for (const [room, id] of Object.entries(d.r as Record<string, unknown>)) {
    // Room names start with '#' (so no key here is `__proto__`).
    if (!room.startsWith('#')) return null;
    if (typeof id !== 'string' || !DECIMAL_ID.test(id) || BigInt(id) > MAX_ID) return null;
    rooms[room] = id;
  }
  return { name: d.n, session: d.s, issuedAt: d.t, rooms };
}
