/**
 * A room (IRC channel) as this node holds it: members with their roles, topic, modes,
 * bans, mutes, invites and owner. A replica: it changes only by applying events
 * (rooms.ts), so the copies of one room on several nodes converge from the same ordered
 * events. Members on this node are Sessions (fan-out walks them); members on other nodes
 * are plain records.
 */
import type { Session } from './session.js';

export interface BanEntry {
  mask: string;
  by: string;
  at: number;
  reason?: string;
  /** When the ban lifts itself (tempban), or undefined/null for "until lifted". */
  expiresAt?: number | null;
}

/** Member roles as bits: a member may be both. */
export const Role = { Op: 1, Voice: 2 } as const;

export type { RoomChange, RoomFlag } from './room-changes.js';
export { ROOM_FLAGS } from './room-changes.js';

export interface RoomModes {
  inviteOnly: boolean;
  /** Join key, or null. */
  key: string | null;
  /** Most members, 0 = none. */
  limit: number;
  moderated: boolean;
  noExternal: boolean;
  topicLocked: boolean;
  secret: boolean;
}

export function defaultModes(): RoomModes {
  return {
    inviteOnly: false,
    key: null,
    limit: 0,
    moderated: false,
    noExternal: true,
    topicLocked: true,
    secret: false,
  };
}

/** A member on another node, as events describe them. */
export interface RemoteMember {
  name: string;
  mask: string;
  account: string | null;
  realname: string;
  away: string | null;
  /** A declared bot, as of their join. */
  bot?: boolean;
  roles: number;
  /** Session id on its node (node-qualified). */
  origin: string;
}

export class Room {
  /** Members on this node and their roles: fan-out walks this map. */
  readonly local = new Map<Session, number>();
  /** Members on other nodes, by folded name. */
  readonly remote = new Map<string, RemoteMember>();
  /**
   * Local members whose encoder shows others' bulk joins and departures one by one (IRC,
   * JSON). While it is 0 a bulk event has no one to visit, so filling a big line-protocol
   * room is not quadratic.
   */
  bulkAudience = 0;
  topic = '';
  topicBy = '';
  topicAt = 0;
  readonly modes: RoomModes = defaultModes();
  readonly bans: BanEntry[] = [];
  /** Folded name → when the mute ends (null: until lifted). */
  readonly mutes = new Map<string, number | null>();
  /** Account that claimed the room (its permanent owner), or null. */
  owner: string | null = null;
  /** Folded names invited past +i (cleared when they join). */
  readonly invited = new Set<string>();
  /** Session id of the member whose join (re)created the room. */
  founder = '';
  /**
   * The newest id of a stored message (not a notice, not tags only) applied here, or null
   * before the first: where someone leaving stopped reading, where a joiner's live
   * messages begin (resume.ts).
   */
  lastId: string | null = null;

  constructor(
    /** As spelled; changes only by a rename event (rooms.ts), like `key`. */
    public name: string,
    /** The folded name: the key of every table that holds the room. */
    public key: string,
    public createdAt: number,
  ) {}

  get size(): number {
    return this.local.size + this.remote.size;
  }

  has(s: Session): boolean {
    return this.local.has(s);
  }

  isOp(s: Session): boolean {
    return ((this.local.get(s) ?? 0) & Role.Op) !== 0;
  }

  isVoiced(s: Session): boolean {
    return ((this.local.get(s) ?? 0) & Role.Voice) !== 0;
  }
}
