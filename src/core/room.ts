/**
 * A room (IRC channel): members with their status, topic, modes, bans and invites.
 * Pure state; the hub enforces the rules and publishes events.
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

export const MemberFlag = { Op: 1, Voice: 2 } as const;

export interface RoomModes {
  inviteOnly: boolean; // +i
  key: string | null; // +k
  limit: number; // +l, 0 = none
  moderated: boolean; // +m
  noExternal: boolean; // +n
  topicLocked: boolean; // +t
  secret: boolean; // +s
}

export class Room {
  readonly members = new Map<Session, number>();
  /**
   * Members whose encoder shows others' bulk joins and departures one by one (IRC, JSON).
   * While it is 0 a bulk event has no one to visit, so filling a big line-protocol room
   * is not quadratic (kept by the hub, which adds and removes members).
   */
  bulkAudience = 0;
  topic = '';
  topicBy = '';
  topicAt = 0;
  readonly modes: RoomModes = {
    inviteOnly: false,
    key: null,
    limit: 0,
    moderated: false,
    noExternal: true,
    topicLocked: true,
    secret: false,
  };
  readonly bans: BanEntry[] = [];
  /** Folded name → when the mute ends (null: until lifted). */
  readonly mutes = new Map<string, number | null>();
  /** Account that claimed the room (its permanent owner), or null. */
  owner: string | null = null;
  /** Folded names invited past +i (cleared when they join). */
  readonly invited = new Set<string>();

  constructor(
    readonly name: string,
    readonly key: string,
    readonly createdAt: number,
  ) {}

  isOp(s: Session): boolean {
    return ((this.members.get(s) ?? 0) & MemberFlag.Op) !== 0;
  }

  isVoiced(s: Session): boolean {
    return ((this.members.get(s) ?? 0) & MemberFlag.Voice) !== 0;
  }

  setFlag(s: Session, flag: number, on: boolean): void {
    const cur = this.members.get(s);
    if (cur === undefined) return;
    this.members.set(s, on ? cur | flag : cur & ~flag);
  }

  /** Mode string as IRC shows it, e.g. "+ntk secret" (key shown only to members). */
  modeString(showKey: boolean): { modes: string; params: string[] } {
    let modes = '+';
    const params: string[] = [];
    const m = this.modes;
    if (m.inviteOnly) modes += 'i';
    if (m.moderated) modes += 'm';
    if (m.noExternal) modes += 'n';
    if (m.secret) modes += 's';
    if (m.topicLocked) modes += 't';
    if (m.key !== null) {
      modes += 'k';
      params.push(showKey ? m.key : '*');
    }
    if (m.limit > 0) {
      modes += 'l';
      params.push(String(m.limit));
    }
    return { modes, params };
  }
}
