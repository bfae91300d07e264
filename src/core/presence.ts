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
  MemberInfo,
  PersonInfo,
  Presence,
  RoomInfo,
} from './ports.js';
import { Role, type RemoteMember, type Room } from './room.js';
import type { Rooms } from './rooms.js';
import type { Session } from './session.js';
import type { Sessions } from './sessions.js';

interface Hold {
  origin: string;
  registered: boolean;
}

export class LocalPresence implements Presence {
  private readonly holds = new Map<string, Hold>();

  constructor(
    private readonly sessions: Sessions,
    private readonly replicas: Rooms,
  ) {}

  claim(name: string, origin: string, mode: ClaimMode): Promise<ClaimResult> {
    return Promise.resolve(this.claimNow(name, origin, mode));
  }

  /** The claim, answered at once (one event loop: nothing can interleave). */
  claimNow(name: string, origin: string, mode: ClaimMode): ClaimResult {
    const key = fold(name);
    const hold = this.holds.get(key);
    const registered = mode !== 'tentative';
    if (!hold || hold.origin === origin) {
      this.holds.set(key, { origin, registered: registered || (hold?.registered ?? false) });
      return { ok: true };
    }
    if (mode === 'force' || (mode === 'register' && !hold.registered)) {
      this.holds.set(key, { origin, registered });
      return { ok: true, displaced: hold.origin };
    }
    return { ok: false };
  }

  release(name: string, origin: string): void {
    const key = fold(name);
    if (this.holds.get(key)?.origin === origin) this.holds.delete(key);
  }

  holder(name: string): Promise<string | null> {
    return Promise.resolve(this.holderNow(name));
  }

  holderNow(name: string): string | null {
    return this.holds.get(fold(name))?.origin ?? null;
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
    realname: s.realname,
    account: s.account,
    away: s.away,
    oper: s.oper,
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
