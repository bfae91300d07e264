/**
 * Node leases: every node renews a short-lived key every few seconds; a node whose key
 * expired (killed with -9, its network lost) is cleaned up by the first surviving node to
 * claim the job: its users' quits are announced in their rooms (and to whoever watches
 * for them, on every node), their names freed, their records removed. With a 10 s lease renewed every 3 s, a dead node's users are gone
 * within 10 + 3 s (the documented bound is 15 s).
 *
 * A node that comes back after being cleaned up (a network that returns) finds itself
 * removed from the node set: its sessions were announced gone, so it ends them ("lost
 * contact with the cluster") rather than keep people no one else can see.
 */
import type { Actor, ChatEvent } from '../core/events.js';
import type { BusRoute, Logger } from '../core/ports.js';
import { fold } from '../core/names.js';
import { listOf, pairsOf, text, type RedisLink } from './redis-client.js';
import {
  cleanupKey,
  clusterMarkerKey,
  countsKey,
  leaseKey,
  nameHolder,
  nameKey,
  NODES,
  nodeRoomsKey,
  nodeUsersKey,
  roomKeys,
  userKey,
} from './redis-keys.js';
import { personFrom } from './redis-presence.js';
import { GHOSTS, RELEASE } from './redis-scripts.js';
import { LeaseKeeper } from './lease-keeper.js';

export interface LeaseHooks {
  emit(event: ChatEvent, route: BusRoute): Promise<void>;
  /** This node's counts fields (users, invisible, opers). */
  counts(): string[];
  /** This node was declared dead while away: end its sessions. */
  evicted(): void;
  /** Redis lost its data (restarted without persistence): put this node's part back. */
  restore(): Promise<void>;
}

export interface LeaseOptions {
  leaseMs: number;
  renewMs: number;
  /**
   * Keep the lease alive from a thread of its own too (lease-keeper.ts), covering a main
   * loop silent for up to `hungMs`: this Redis URL. Without it, the main loop alone.
   */
  thread?: { url: string; hungMs: number };
}

/** A step of the lease round that takes longer than `ms` is abandoned: the lease must go on. */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** GHOSTS scripts in flight at once while cleaning up after a node. */
const GHOSTS_AT_ONCE = 64;

export const defaultLeaseOptions: LeaseOptions = { leaseMs: 10_000, renewMs: 3000 };

export class Leases {
  private renewTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private joined = false;
  // Renewing and sweeping are guarded apart: a sweep that cleans up after a lost node of
  // thousands of users takes many seconds, and a renewal waiting behind it let this node's
  // own lease lapse, so the others cleaned it up too, and so on until every node had
  // declared every other dead (seen in the 100,000-connection run on a loaded machine).
  private renewing = false;
  private sweeping = false;
  /** Set by a clean stop: this node removing itself is not this node declared dead. */
  private stopping = false;
  /**
   * The cluster markers this node last saw, by key (one per shard on a Redis Cluster): a
   * different one means Redis (that shard) lost its data.
   */
  private markers = new Map<string, string>();
  /** When this node's lease was last set (its clock): a longer gap than the lease is news. */
  private renewedAt = 0;
  private keeper: LeaseKeeper | null = null;

  constructor(
    private readonly link: RedisLink,
    private readonly nodeId: string,
    private readonly hooks: LeaseHooks,
    private readonly log: Logger,
    private readonly o: LeaseOptions = defaultLeaseOptions,
  ) {}

  async start(): Promise<void> {
    await this.renew();
    // The renewal timers first: the thread can take longer than a lease to start on a
    // loaded host, and while start() waited for it nothing renewed, so six workers
    // starting at once on two busy cores were cleaned up by each other before their
    // first user arrived.
    this.renewTimer = setInterval(() => void this.renewRound(), this.o.renewMs);
    this.renewTimer.unref();
    this.sweepTimer = setInterval(() => void this.sweepRound(), this.o.renewMs);
    this.sweepTimer.unref();
    if (this.o.thread) {
      this.keeper = await LeaseKeeper.start(
        {
          url: this.o.thread.url,
          key: leaseKey(this.nodeId),
          leaseMs: this.o.leaseMs,
          renewMs: this.o.renewMs,
          hungMs: this.o.thread.hungMs,
        },
        this.log,
      );
      // Stopped while the thread was starting: stop() found no keeper to stop.
      if (this.stopping) {
        await this.keeper?.stop();
        this.keeper = null;
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.renewTimer = this.sweepTimer = null;
    // Before the lease is deleted: the thread must not set it again after.
    await this.keeper?.stop();
    this.keeper = null;
    // A clean stop: our users have quit through the core already.
    await Promise.allSettled([
      this.link.command(['SREM', NODES, this.nodeId]),
      this.link.command([
        'DEL',
        leaseKey(this.nodeId),
        countsKey(this.nodeId),
        nodeUsersKey(this.nodeId),
        nodeRoomsKey(this.nodeId),
      ]),
    ]);
  }

  private async renewRound(): Promise<void> {
    if (this.renewing || this.stopping || !this.link.up) return;
    this.renewing = true;
    try {
      await this.renew();
    } catch (err) {
      // A round cut short by this node's own stop (the link closing) is no news.
      if (!this.stopping) this.log.warn({ err }, 'lease renewal failed');
    } finally {
      this.renewing = false;
    }
  }

  private async sweepRound(): Promise<void> {
    if (this.sweeping || this.stopping || !this.link.up) return;
    this.sweeping = true;
    try {
      await this.sweep();
    } catch (err) {
      if (!this.stopping) this.log.warn({ err }, 'lease sweep failed');
    } finally {
      this.sweeping = false;
    }
  }

  private async renew(): Promise<void> {
    const fresh = `${Date.now().toString(36)}.${this.nodeId}`;
    // On a cluster, one marker per shard: any shard may lose its data alone (a master
    // restarted without persistence and no replica), and what it held (names, user
    // records, the node list, rooms) is put back as after a whole Redis lost it.
    const markers = new Map<string, string>();
    await Promise.all(
      this.link.perShard(clusterMarkerKey).map(async (key) => {
        await this.link.command(['SET', key, fresh, 'NX']);
        markers.set(key, String(await this.link.command(['GET', key])));
      }),
    );
    // A marker key new to this node (a shard added, slots moved) is learnt, not news.
    const lost = [...markers].filter(
      ([key, v]) => this.markers.has(key) && this.markers.get(key) !== v,
    );
    this.markers = markers;
    if (this.joined && lost.length > 0) {
      // Not this node's absence: Redis itself forgot. Put our part back.
      this.log.warn(
        { node: this.nodeId, markers: lost.map(([key]) => key) },
        'redis lost its data: restoring this node',
      );
      await this.renewLease();
      await this.hooks.restore();
      return;
    }
    if (this.joined) {
      const member = Number(await this.link.command(['SISMEMBER', NODES, this.nodeId]));
      if (member === 0 && !this.stopping) {
        this.log.warn({ node: this.nodeId }, 'this node was declared dead while out of reach');
        this.hooks.evicted();
      }
    }
    await this.renewLease();
  }

  private async renewLease(): Promise<void> {
    const started = Date.now();
    await Promise.all([
      this.link.command(['SET', leaseKey(this.nodeId), '1', 'PX', String(this.o.leaseMs)]),
      this.link.command(['SADD', NODES, this.nodeId]),
      this.link.command(['HSET', countsKey(this.nodeId), ...this.hooks.counts()]),
    ]);
    // Said, because it is the first thing to look at when nodes are cleaned up while alive:
    // this node's loop (or its link) was held up longer than the lease.
    const gap = started - this.renewedAt;
    if (this.joined && gap > this.o.leaseMs) {
      this.log.warn(
        { node: this.nodeId, gapMs: gap, leaseMs: this.o.leaseMs },
        this.keeper
          ? "this node's event loop was held up longer than its lease (the lease thread kept it)"
          : "this node's lease lapsed: its last renewal was longer ago than the lease",
      );
    }
    this.renewedAt = started;
    this.joined = true;
  }

  /** Called when the link comes back: look now rather than at the next round. */
  poke(): void {
    void this.renewRound().then(() => this.sweepRound());
  }

  /** Finds nodes whose lease ran out and cleans up after each (one node does each). */
  private async sweep(): Promise<void> {
    const nodes = listOf(await this.link.command(['SMEMBERS', NODES]));
    for (const node of nodes) {
      if (node === this.nodeId) continue;
      if (Number(await this.link.command(['EXISTS', leaseKey(node)])) === 1) continue;
      const mine = await this.link.command([
        'SET',
        cleanupKey(node),
        this.nodeId,
        'NX',
        'PX',
        String(this.o.leaseMs * 6),
      ]);
      if (mine !== 'OK') continue;
      await this.cleanUp(node);
    }
  }

  /**
   * A dead node's users leave: quits announced, names freed, records gone. First those
   * with a user record; then its members no record knows of (GHOSTS: the node died after
   * sequencing a join and before writing the record, at the end of that turn).
   */
  async cleanUp(node: string): Promise<number> {
    const origins = listOf(await this.link.command(['SMEMBERS', nodeUsersKey(node)]));
    const known = new Set<string>();
    let done = 0;
    for (const origin of origins) {
      known.add(origin);
      const h = Object.fromEntries(pairsOf(await this.link.command(['HGETALL', userKey(origin)])));
      const person = personFrom(origin, h);
      if (person) {
        const who = {
          name: person.name,
          mask: `${person.name}!${person.user}@${person.host}`,
          account: person.account,
        };
        await this.gone(origin, who, person.rooms);
        done++;
      }
      await this.link.command(['DEL', userKey(origin)]);
    }
    done += await this.ghosts(node, known);
    await Promise.all([
      this.link.command(['DEL', nodeUsersKey(node), countsKey(node), nodeRoomsKey(node)]),
      this.link.command(['SREM', NODES, node]),
    ]);
    this.log.warn({ node, users: done }, 'cleaned up after a lost node');
    return done;
  }

  /**
   * The dead node's room members still there after its recorded users' quits: users with
   * no record, and rooms a record did not list yet (`known`: the users with records).
   */
  private async ghosts(node: string, known: ReadonlySet<string>): Promise<number> {
    const rooms = listOf(await this.link.command(['SMEMBERS', nodeRoomsKey(node)]));
    // One GHOSTS per room (each in its room's slot), GHOSTS_AT_ONCE in flight.
    const found: { room: string; name: string; raw: string }[] = [];
    for (let i = 0; i < rooms.length; i += GHOSTS_AT_ONCE) {
      const batch = rooms.slice(i, i + GHOSTS_AT_ONCE);
      const replies = await Promise.all(
        batch.map((room) => {
          const k = roomKeys(room);
          return this.link.script(GHOSTS, [k.state, k.members], [`${node}.`]);
        }),
      );
      replies.forEach((reply, j) => {
        const [name = '', ...raws] = listOf(reply);
        for (const raw of raws) found.push({ room: batch[j] as string, name, raw });
      });
    }
    const lost = new Map<string, { who: Actor; rooms: string[] }>();
    for (const { room, name, raw } of found) {
      let m: { name?: unknown; mask?: unknown; account?: unknown; origin: string };
      try {
        m = JSON.parse(raw) as typeof m;
      } catch {
        continue;
      }
      if (typeof m.name !== 'string') continue;
      let entry = lost.get(m.origin);
      if (!entry) {
        const who: Actor = {
          name: m.name,
          mask: typeof m.mask === 'string' ? m.mask : `${m.name}!${m.name}@`,
          account: typeof m.account === 'string' ? m.account : null,
        };
        entry = { who, rooms: [] };
        lost.set(m.origin, entry);
      }
      entry.rooms.push(name || room);
    }
    let unknown = 0;
    for (const [origin, { who, rooms }] of lost) {
      // A user with a record left its rooms above: what remains are rooms its record did
      // not list yet (written again after each join), and the quit there is all it needs.
      const offline = !known.has(origin);
      if (offline) unknown++;
      await this.gone(origin, who, rooms, offline);
    }
    if (lost.size > 0) {
      this.log.warn({ node, users: lost.size }, 'lost node had room members without records');
    }
    return unknown;
  }

  /**
   * Announces a lost session's quit in its rooms and (with `offline`) to its watchers;
   * frees its name.
   */
  private async gone(origin: string, who: Actor, rooms: string[], offline = true): Promise<void> {
    await within(
      this.o.leaseMs,
      this.hooks.emit(
        { type: 'quit', ts: Date.now(), origin, who, reason: 'server lost', rooms },
        { rooms: rooms.map((r) => fold(r)) },
      ),
    ).catch((err: unknown) => this.log.warn({ err, origin }, 'quit of a lost user not sent'));
    if (!offline) return;
    // Back already, under a session of another node: they are not offline, and the name
    // is theirs (the room quits above were not sequenced where they are again: SEQUENCE).
    const holder = nameHolder(text(await this.link.command(['GET', nameKey(fold(who.name))])));
    if (holder !== null && holder.origin !== origin) return;
    // Those watching for them (IRC MONITOR), on any node, hear they are gone.
    await within(
      this.o.leaseMs,
      this.hooks.emit(
        { type: 'status', ts: Date.now(), origin, who, change: 'offline', rooms },
        { everyone: true },
      ),
    ).catch((err: unknown) => this.log.warn({ err, origin }, 'offline of a lost user not sent'));
    await this.link.script(RELEASE, [nameKey(fold(who.name))], [origin]);
  }
}
