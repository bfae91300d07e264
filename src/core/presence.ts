/**
 * Presence on one node: who holds which name, who is online, who is in which room. This
 * is the in-process implementation of the Presence port (ports.ts), built on this node's
 * sessions and room replicas; a cluster replaces it with one shared by every node. The
 * answers are promises because a shared implementation has to ask over the network.
 *
 * Names: a claim is atomic (one event loop: nothing interleaves), and a name is held by a
 * session id. A session still registering holds its name only tentatively: a session that
 * completes registration, or proves the password of the account owning the name, takes it
 * over (`claim` with 'register' or 'force'), so a connection that never finishes
 * registering cannot keep a name from its owner.
 */
import { fold } from './names.js';
import type {
  ClaimMode,
  ClaimResult,
  Clock,
  HoldProof,
  MemberInfo,
  PersonInfo,
  Presence,
  RoomInfo,
} from './ports.js';
import { Role, type RemoteMember, type Room } from './room.js';
import type { Rooms } from './rooms.js';
import type { Session } from './session.js';
import type { Sessions } from './sessions.js';

/** A name kept for someone who left without quitting (Presence.hold). */
export interface NameHold {
  name: string;
  /** The session that held it. */
  origin: string;
  address: string;
  /** Epoch ms when the hold ends. */
  until: number;
}

/** True when `proof` shows the claimant is the person a hold keeps the name for. */
export function provesHold(hold: NameHold, proof: HoldProof | undefined): boolean {
  if (!proof) return false;
  return (
    (proof.session !== undefined && proof.session === hold.origin) ||
    (proof.address !== undefined && proof.address !== '' && proof.address === hold.address)
  );
}

export class LocalPresence implements Presence {
  /** Who holds each name (folded): the session id. A Map of strings, no object per name. */
  private readonly holds = new Map<string, string>();
  /** The folded names in `holds` held only tentatively (their session is registering). */
  private readonly tentative = new Set<string>();
  /** Names kept for people who left without quitting, by folded name. */
  private readonly kept = new Map<string, NameHold>();

  constructor(
    private readonly sessions: Sessions,
    private readonly replicas: Rooms,
    private readonly clock: Clock = { now: () => Date.now() },
  ) {}

  claim(name: string, origin: string, mode: ClaimMode, proof?: HoldProof): Promise<ClaimResult> {
    return Promise.resolve(this.claimNow(name, origin, mode, proof));
  }

  /** The claim, answered at once (one event loop: nothing can interleave). */
  claimNow(name: string, origin: string, mode: ClaimMode, proof?: HoldProof): ClaimResult {
    const key = fold(name);
    const kept = this.kept.get(key);
    if (kept) {
      if (kept.until > this.clock.now() && mode !== 'force' && !provesHold(kept, proof)) {
        return { ok: false };
      }
      this.kept.delete(key);
    }
    const holder = this.holds.get(key);
    const registered = mode !== 'tentative';
    if (holder === undefined || holder === origin) {
      // Once registered, a hold stays so (a later tentative claim by the same session).
      const wasRegistered = holder !== undefined && !this.tentative.has(key);
      this.setHold(key, origin, registered || wasRegistered);
      return { ok: true };
    }
    if (mode === 'force' || (mode === 'register' && this.tentative.has(key))) {
      this.setHold(key, origin, registered);
      return { ok: true, displaced: holder };
    }
    return { ok: false };
  }

  private setHold(key: string, origin: string, registered: boolean): void {
    this.holds.set(key, origin);
    if (registered) this.tentative.delete(key);
    else this.tentative.add(key);
  }

  private dropHold(key: string): void {
    this.holds.delete(key);
    this.tentative.delete(key);
  }

  release(name: string, origin: string): void {
    const key = fold(name);
    if (this.holds.get(key) === origin) this.dropHold(key);
  }

  hold(name: string, origin: string, address: string, ms: number): void {
    const key = fold(name);
    if (this.holds.get(key) !== origin) return;
    this.dropHold(key);
    const now = this.clock.now();
    // Holds nobody came back for end unseen: sweep them now and then, not on a timer.
    if (this.kept.size >= 256 && this.kept.size % 256 === 0) {
      for (const [k, h] of this.kept) if (h.until <= now) this.kept.delete(k);
    }
    this.kept.set(key, { name, origin, address, until: now + ms });
  }

  /** The names still held (written to the store at shutdown, so a restart keeps them). */
  heldNames(): NameHold[] {
    const now = this.clock.now();
    return [...this.kept.values()].filter((h) => h.until > now);
  }

  /** Takes back what `heldNames` gave before a restart (those that have not ended). */
  restoreHeld(list: NameHold[]): void {
    const now = this.clock.now();
    for (const h of list) if (h.until > now) this.kept.set(fold(h.name), h);
  }

  holder(name: string): Promise<string | null> {
    return Promise.resolve(this.holderNow(name));
  }

  holderNow(name: string): string | null {
    return this.holds.get(fold(name)) ?? null;
  }

  lookup(name: string): Promise<PersonInfo | null> {
    const s = this.sessions.named(name);
    return Promise.resolve(s?.registered ? personOf(s) : null);
  }

  people(): Promise<PersonInfo[]> {
    const out: PersonInfo[] = [];
    for (const s of this.sessions) if (s.registered) out.push(personOf(s));
    return Promise.resolve(out);
  }

  members(room: string): Promise<MemberInfo[] | null> {
    const r = this.replicas.get(room);
    return Promise.resolve(r ? membersOf(r) : null);
  }

  rooms(): Promise<RoomInfo[]> {
    return Promise.resolve(
      this.replicas.list().map((r) => ({
        name: r.name,
        topic: r.topic,
        members: r.size,
        secret: r.modes.secret,
      })),
    );
  }

  counts(): Promise<{ users: number; invisible: number; opers: number; rooms: number }> {
    const s = this.sessions;
    return Promise.resolve({
      users: s.registered,
      invisible: s.invisible,
      opers: s.opers,
      rooms: this.replicas.count,
    });
  }
}

export function personOf(s: Session): PersonInfo {
  const rooms: string[] = [];
  for (const r of s.rooms) rooms.push(r.name);
  return {
    name: s.name,
    user: s.user,
    host: s.host,
    address: s.conn.remoteAddress,
    realname: s.realname,
    account: s.account,
    away: s.away,
    oper: s.oper,
    bot: s.bot,
    invisible: s.invisible,
    secure: s.conn.secure,
    protocol: s.conn.protocol,
    origin: s.id,
    connectedAt: s.connectedAt,
    lastActive: s.lastActive,
    rooms,
  };
}

function remotePerson(m: RemoteMember): PersonInfo {
  const at = m.mask.indexOf('@');
  const bang = m.mask.indexOf('!');
  return {
    name: m.name,
    user: bang >= 0 && at > bang ? m.mask.slice(bang + 1, at) : m.name,
    host: at >= 0 ? m.mask.slice(at + 1) : '',
    realname: m.realname,
    account: m.account,
    away: m.away,
    oper: false,
    bot: m.bot === true,
    invisible: false,
    secure: false,
    protocol: 'remote',
    origin: m.origin,
    connectedAt: 0,
    lastActive: 0,
    rooms: [],
  };
}

/** A room's members, local and remote, with their roles. */
export function membersOf(room: Room): MemberInfo[] {
  const out: MemberInfo[] = [];
  for (const [s, roles] of room.local) {
    out.push({
      person: personOf(s),
      op: (roles & Role.Op) !== 0,
      voice: (roles & Role.Voice) !== 0,
    });
  }
  for (const m of room.remote.values()) {
    out.push({
      person: remotePerson(m),
      op: (m.roles & Role.Op) !== 0,
      voice: (m.roles & Role.Voice) !== 0,
    });
  }
  return out;
}
