/**
 * Presence shared by every node on one Redis: the cluster's user list. Names are claimed
 * atomically (the CLAIM script: exactly one of two concurrent claims wins, with the owning
 * session recorded); each node keeps a hash per user it holds, and the set of its users;
 * who is in a room is the room's members hash, which the SEQUENCE script keeps in step
 * with the room's events. Lookups of this node's own sessions never leave the process.
 *
 * Writes are coalesced: a session that changes several times in one turn (joins a room,
 * goes away) is written once, at the end of the turn.
 */
import type { Logger, MemberInfo, PersonInfo, Presence, RoomInfo } from '../core/ports.js';
import type { ClaimMode, ClaimResult, HoldProof } from '../core/ports.js';
import { fold } from '../core/names.js';
import { personOf } from '../core/presence.js';
import { Role } from '../core/room.js';
import type { Sessions } from '../core/sessions.js';
import { listOf, pairsOf, text, type RedisLink, type RedisReply } from './redis-client.js';
import {
  countsKey,
  NODES,
  nameHolder,
  nameKey,
  nodeUsersKey,
  ROOMS,
  roomKeys,
  userKey,
} from './redis-keys.js';
import { CLAIM, HOLD, RELEASE } from './redis-scripts.js';

const str = text;

type Counts = { users: number; invisible: number; opers: number; rooms: number };
/** How long one read of the chat's counts serves (see `counts`). */
const COUNTS_FRESH_MS = 1000;

function hash(r: RedisReply): Record<string, string> {
  return Object.fromEntries(pairsOf(r));
}

/** A user hash as PersonInfo (null when it holds no registered user). */
export function personFrom(origin: string, h: Record<string, string>): PersonInfo | null {
  if (!h.name) return null;
  let rooms: string[] = [];
  try {
    rooms = JSON.parse(h.rooms ?? '[]') as string[];
  } catch {
    rooms = [];
  }
  return {
    name: h.name,
    user: h.user ?? h.name,
    host: h.host ?? '',
    ...(h.address ? { address: h.address } : {}),
    realname: h.realname ?? '',
    account: h.account ? h.account : null,
    away: h.away !== undefined && h.away !== '\0' ? h.away : null,
    oper: h.oper === '1',
    bot: h.bot === '1',
    invisible: h.invisible === '1',
    secure: h.secure === '1',
    protocol: h.protocol ?? 'remote',
    origin,
    connectedAt: Number(h.connectedAt ?? 0),
    lastActive: Number(h.lastActive ?? 0),
    rooms,
  };
}

function fieldsOf(p: PersonInfo): string[] {
  return [
    'name',
    p.name,
    'user',
    p.user,
    'host',
    p.host,
    'address',
    p.address ?? '',
    'realname',
    p.realname,
    'account',
    p.account ?? '',
    // NUL marks "not away" (an away text cannot hold control characters).
    'away',
    p.away ?? '\0',
    'oper',
    p.oper ? '1' : '0',
    'bot',
    p.bot ? '1' : '0',
    'invisible',
    p.invisible ? '1' : '0',
    'secure',
    p.secure ? '1' : '0',
    'protocol',
    p.protocol,
    'connectedAt',
    String(p.connectedAt),
    'lastActive',
    String(p.lastActive),
    'rooms',
    JSON.stringify(p.rooms),
  ];
}

export class RedisPresence implements Presence {
  /** Sessions to write at the end of this turn. */
  private readonly dirty = new Set<string>();
  private flushing = false;
  private countsCache: { at: number; value: Promise<Counts> } | null = null;

  constructor(
    private readonly link: RedisLink,
    private readonly nodeId: string,
    private readonly sessions: Sessions,
    private readonly log: Logger,
  ) {}

  async claim(
    name: string,
    origin: string,
    mode: ClaimMode,
    proof?: HoldProof,
  ): Promise<ClaimResult> {
    const r = (await this.link.script(
      CLAIM,
      [nameKey(fold(name))],
      [origin, mode, proof?.session ?? '', proof?.address ?? ''],
    )) as RedisReply[];
    const displaced = str(r[1]);
    return { ok: Number(r[0]) === 1, ...(displaced ? { displaced } : {}) };
  }

  release(name: string, origin: string): void {
    this.link
      .script(RELEASE, [nameKey(fold(name))], [origin])
      .catch((err: unknown) => this.log.warn({ err, name }, 'name not released in redis'));
  }

  hold(name: string, origin: string, address: string, ms: number): void {
    this.link
      .script(HOLD, [nameKey(fold(name))], [origin, address, String(Math.max(1, Math.round(ms)))])
      .catch((err: unknown) => this.log.warn({ err, name }, 'name not held in redis'));
  }

  async holder(name: string): Promise<string | null> {
    const held = nameHolder(str(await this.link.command(['GET', nameKey(fold(name))])));
    // A name kept for someone who left has no session holding it.
    return held && !held.kept ? held.origin : null;
  }

  async lookup(name: string): Promise<PersonInfo | null> {
    const local = this.sessions.named(name);
    if (local?.registered) return personOf(local);
    const origin = await this.holder(name);
    if (!origin) return null;
    const mine = this.sessions.get(origin);
    if (mine) return mine.registered ? personOf(mine) : null;
    return personFrom(origin, hash(await this.link.command(['HGETALL', userKey(origin)])));
  }

  async people(): Promise<PersonInfo[]> {
    const out: PersonInfo[] = [];
    for (const s of this.sessions) if (s.registered) out.push(personOf(s));
    const nodes = listOf(await this.link.command(['SMEMBERS', NODES]));
    for (const node of nodes) {
      if (node === this.nodeId) continue;
      const origins = (
        (await this.link.command(['SMEMBERS', nodeUsersKey(node)])) as RedisReply[]
      ).map(str);
      const hashes = await Promise.all(
        origins.map((o) => this.link.command(['HGETALL', userKey(o)])),
      );
      origins.forEach((o, i) => {
        const p = personFrom(o, hash(hashes[i] as RedisReply));
        if (p) out.push(p);
      });
    }
    return out;
  }

  async members(room: string): Promise<MemberInfo[] | null> {
    const keys = roomKeys(fold(room));
    const raw = hash(await this.link.command(['HGETALL', keys.members]));
    const entries = Object.values(raw);
    if (entries.length === 0) return null;
    const out: MemberInfo[] = [];
    const remote: {
      m: {
        name: string;
        mask: string;
        account: string | null;
        realname: string;
        away: string | null;
        origin: string;
        roles: number;
      };
    }[] = [];
    for (const json of entries) {
      let m;
      try {
        m = JSON.parse(json) as (typeof remote)[number]['m'];
      } catch {
        continue;
      }
      const local = this.sessions.get(m.origin);
      const roles = m.roles ?? 0;
      if (local?.registered) {
        out.push({
          person: personOf(local),
          op: (roles & Role.Op) !== 0,
          voice: (roles & Role.Voice) !== 0,
        });
      } else remote.push({ m });
    }
    // Others' invisibility and operator status are in their user hashes.
    const flags = await Promise.all(
      remote.map(({ m }) =>
        this.link.command(['HMGET', userKey(m.origin), 'invisible', 'oper', 'user', 'host', 'bot']),
      ),
    );
    remote.forEach(({ m }, i) => {
      const f = (flags[i] as RedisReply[] | null) ?? [];
      const at = m.mask.indexOf('@');
      out.push({
        person: {
          name: m.name,
          user: str(f[2]) || m.name,
          host: str(f[3]) || (at >= 0 ? m.mask.slice(at + 1) : ''),
          realname: m.realname,
          account: m.account,
          away: m.away ?? null,
          oper: str(f[1]) === '1',
          bot: str(f[4]) === '1',
          invisible: str(f[0]) === '1',
          secure: false,
          protocol: 'remote',
          origin: m.origin,
          connectedAt: 0,
          lastActive: 0,
          rooms: [],
        },
        op: ((m.roles ?? 0) & Role.Op) !== 0,
        voice: ((m.roles ?? 0) & Role.Voice) !== 0,
      });
    });
    return out;
  }

  async rooms(): Promise<RoomInfo[]> {
    const keys = listOf(await this.link.command(['SMEMBERS', ROOMS]));
    const out: RoomInfo[] = [];
    const replies = await Promise.all(
      keys.map(async (k) => {
        const rk = roomKeys(k);
        const [count, state] = await Promise.all([
          this.link.command(['HLEN', rk.members]),
          this.link.command(['HMGET', rk.state, 'topic', 'flag:secret', 'name']),
        ]);
        return { k, count: Number(count), state: state as RedisReply[] };
      }),
    );
    for (const { k, count, state } of replies) {
      if (count === 0) {
        // Emptied since: forget it (a later join adds it again).
        void this.link.command(['SREM', ROOMS, k]).catch(() => {});
        continue;
      }
      out.push({
        name: str(state[2]) || k,
        topic: str(state[0]),
        members: count,
        secret: str(state[1]) === '1',
      });
    }
    return out;
  }

  /**
   * The chat's counts (LUSERS, the line banner, /metrics). Each other node's part is what
   * it published with its last lease round, so the sum is up to a round old anyway: one
   * answer serves every caller for COUNTS_FRESH_MS (a registration storm greets each
   * newcomer with it, and would otherwise pay three round trips each).
   */
  counts(): Promise<Counts> {
    const now = performance.now();
    if (this.countsCache && now - this.countsCache.at < COUNTS_FRESH_MS) {
      return this.countsCache.value;
    }
    const value = this.readCounts();
    this.countsCache = { at: now, value };
    // A failed read is not kept: the next caller asks again.
    value.catch(() => {
      if (this.countsCache?.value === value) this.countsCache = null;
    });
    return value;
  }

  private async readCounts(): Promise<Counts> {
    const [nodeList, roomCount] = await Promise.all([
      this.link.command(['SMEMBERS', NODES]),
      this.link.command(['SCARD', ROOMS]),
    ]);
    const nodes = listOf(nodeList);
    let users = 0;
    let invisible = 0;
    let opers = 0;
    // The other nodes' parts as published; this node's own as it is now (someone who just
    // registered here counts at once, and LUSERS never shows fewer than this node holds).
    const others = nodes.filter((n) => n !== this.nodeId);
    const all = await Promise.all(others.map((n) => this.link.command(['HGETALL', countsKey(n)])));
    for (const r of all) {
      const h = hash(r);
      users += Number(h.users ?? 0);
      invisible += Number(h.invisible ?? 0);
      opers += Number(h.opers ?? 0);
    }
    const own = this.sessions;
    users += own.registered;
    invisible += own.invisible;
    opers += own.opers;
    return { users, invisible, opers, rooms: Number(roomCount) };
  }

  async cluster(): Promise<{ nodes: { node: string; users: number }[]; roundTripMs: number }> {
    const t0 = process.hrtime.bigint();
    await this.link.command(['PING']);
    const roundTripMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const ids = listOf(await this.link.command(['SMEMBERS', NODES]));
    const counts = await Promise.all(
      ids.map((n) => this.link.command(['HGET', countsKey(n), 'users'])),
    );
    return {
      nodes: ids.map((node, i) => ({ node, users: Number(str(counts[i] as RedisReply)) || 0 })),
      roundTripMs,
    };
  }

  /** A session of this node registered or changed: written at the end of the turn. */
  online(origin: string): void {
    this.dirty.add(origin);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => void this.flush());
  }

  /** A session of this node is gone. */
  offline(origin: string): void {
    this.dirty.delete(origin);
    Promise.all([
      this.link.command(['DEL', userKey(origin)]),
      this.link.command(['SREM', nodeUsersKey(this.nodeId), origin]),
    ]).catch((err: unknown) => this.log.warn({ err, origin }, 'user not removed from redis'));
  }

  /** This node's first member joined a room: it is listed for `/rooms`. */
  listRoom(room: string, name: string): void {
    Promise.all([
      this.link.command(['SADD', ROOMS, room]),
      this.link.command(['HSET', roomKeys(room).state, 'name', name]),
    ]).catch(() => {});
  }

  private async flush(): Promise<void> {
    this.flushing = false;
    const batch = [...this.dirty];
    this.dirty.clear();
    const writes: Promise<unknown>[] = [];
    for (const origin of batch) {
      const s = this.sessions.get(origin);
      if (!s?.registered) continue;
      writes.push(
        this.link.command(['HSET', userKey(origin), ...fieldsOf(personOf(s))]),
        this.link.command(['SADD', nodeUsersKey(this.nodeId), origin]),
      );
    }
    await Promise.all(writes).catch((err: unknown) =>
      this.log.warn({ err }, 'users not written to redis'),
    );
  }

  /** This node's counts, for LUSERS and /metrics everywhere (the lease renews them). */
  countsFields(): string[] {
    const s = this.sessions;
    return [
      'users',
      String(s.registered),
      'invisible',
      String(s.invisible),
      'opers',
      String(s.opers),
    ];
  }
}
