/**
 * The Redis bus: nodes that share one Redis serve one chat. The template (bus.ts) owns
 * envelopes, ordering and de-duplication; this class moves payloads.
 *
 * - Room events are sequenced: the SEQUENCE script gives each its room's next offset,
 *   applies the state changes it makes (room-ops.ts), appends it to the room's bounded
 *   stream and publishes `offset:epoch:payload` on the room's channel, in one atomic step.
 * - Everything else (private messages, notices to one person, kills, server-wide news)
 *   is published as is on a node's channel or the `all` channel.
 * - A node subscribes to a room's channel only while it has members there (interest-based
 *   fan-out: one message crosses Redis once per node that needs it), and to its own.
 *
 * While Redis is away, sends fail at once (bus_unavailable); when it is back, every room
 * this node holds is caught up from its stream, and what the stream no longer holds is
 * reported as lost. A probe published every few seconds on each shard this node listens
 * on (one Redis: its own channel) checks that the subscription still delivers, rather than
 * trusting it — judged against this process's own event-loop stalls, so a starved node
 * does not take itself for an outage.
 */
import { randomBytes } from 'node:crypto';
import { RoomChangedError } from '../core/errors.js';
import type { ChatEvent } from '../core/events.js';
import { newNodeId, nodeOf } from '../core/ids.js';
import type { Logger, RoomSnapshot, StreamEvent } from '../core/ports.js';
import { fold } from '../core/names.js';
import { isKept } from '../core/replay-tail.js';
import { ROOM_FLAGS, type BanEntry, type RemoteMember, type Room } from '../core/room.js';
import { ALL, ClusterBus, nodeChannel, type Envelope, type Position } from './bus.js';
import {
  connectRedis,
  listOf,
  pairsOf,
  text,
  type RedisLink,
  type RedisReply,
} from './redis-client.js';
import {
  allRedisChannel,
  leaseKey,
  nodeRedisChannel,
  nodeRoomsKey,
  PREFIX,
  roomKeyList,
  roomKeys,
  slotKey,
} from './redis-keys.js';
import { RECOVER, RESTORE, SEQUENCE, SNAPSHOT, TAIL } from './redis-scripts.js';
import { LoopStall } from './loop-stall.js';
import { roomOps } from './room-ops.js';
import { awaitArrival, forwardTo, moveRoom } from './redis-rename.js';

export interface RedisBusOptions {
  url: string;
  log: Logger;
  defaultRoom: string;
  /** Envelopes kept per room for catching up (the hot window). */
  streamLength?: number;
  /** How long a node's lease lasts unless renewed (ms). */
  leaseMs?: number;
  /** How often the subscription is probed (ms; default PROBE_MS). */
  probeMs?: number;
}

/** A probe's payload: `probe:<node>:<round>` (a room channel carries other nodes' too). */
const PROBE = 'probe:';

/** The probe of one shard: the channel it went out on, its round, and how it fares. */
interface ShardProbe {
  channel: string;
  sent: number;
  /** Judged rounds in a row without it back. */
  misses: number;
  ok: boolean;
  resubscribing: boolean;
}
/**
 * The probe's period: with PROBE_MISSES misses in a row, a silent subscription is found
 * within (PROBE_MISSES + 1) periods of going silent, 7.5 s (docs/cluster.md, Failures).
 */
export const PROBE_MS = 2500;
/** Judged probe rounds in a row without the probe back before the bus is unhealthy. */
const PROBE_MISSES = 2;

/** Envelopes kept per room in its stream unless told otherwise (RedisBusOptions). */
const STREAM_LENGTH = 1000;

/** This process's part of every epoch it makes: two nodes never make the same one. */
const EPOCH_SALT = randomBytes(3).toString('hex');
let epochs = 0;

/**
 * A fresh epoch: time-ordered, so a later one is visibly later in logs. Every SEQUENCE
 * call carries one (used only if the room has none), so it is made without a system call.
 */
function newEpoch(): string {
  return `${Date.now().toString(36)}${EPOCH_SALT}${(++epochs).toString(36)}`;
}

/**
 * The rooms each node is known (in Redis) to have had members in: `noteRoom` adds a room to
 * the node's rooms set once, before the node's first join there. Kept per bus; forgotten
 * when Redis may have lost the set (a restore, this node declared dead).
 */
export type NotedRooms = Map<string, Promise<void>>;

/**
 * Adds `room` to `node`'s rooms set (`nodeRoomsKey`), once per `noted`, and resolves when
 * Redis has it. The set lives in the node's hash slot, the room's keys in the room's, so on
 * a Redis Cluster no one script can do both; done first, and waited for, the order keeps
 * what one atomic step kept: a node killed after its join was sequenced has the room in its
 * set, so the lease cleanup finds the member (GHOSTS) even without its user record. A kill
 * between the two leaves a room in the set with none of the node's members there: the
 * cleanup finds nobody, which is right.
 */
export function noteRoom(
  link: RedisLink,
  node: string,
  room: string,
  noted?: NotedRooms,
): Promise<void> {
  const key = `${node} ${room}`;
  const known = noted?.get(key);
  if (known) return known;
  const done = link.command(['SADD', nodeRoomsKey(node), room]).then(() => {});
  if (noted) {
    noted.set(key, done);
    // A failed write is not kept: the next join tries again (and this one is refused).
    done.catch(() => {
      if (noted.get(key) === done) noted.delete(key);
    });
  }
  return done;
}

/**
 * A join met its room in another epoch than the one its node's replica was built in
 * (SEQUENCE's -6): it was not sequenced. `epoch` is the room's ('' none: its data is gone).
 */
export class EpochChanged extends Error {
  constructor(readonly epoch: string) {
    super('the room is not the one this node read');
  }
}

/**
 * Runs SEQUENCE for a room envelope (channel `r:<room>`): its offset and epoch. A join's
 * room is first noted in the joiner's node's rooms set (`noteRoom`); a message the store
 * keeps is listed in the room's messages stream too. `expect`: for a join, the epoch of
 * its node's replica ('' any); a room in another throws EpochChanged.
 */
export async function sequenceEnvelope(
  link: RedisLink,
  envelope: Envelope,
  defaultRoom: string,
  streamLength = STREAM_LENGTH,
  noted?: NotedRooms,
  expect = '',
): Promise<Position> {
  const room = envelope.c.slice(2);
  if (envelope.e.type === 'rename') {
    return moveRoom(link, envelope, envelope.e, newEpoch(), streamLength);
  }
  const keys = roomKeys(room);
  const ops = roomOps(envelope.e, room, defaultRoom);
  const join = envelope.e.type === 'joined';
  if (envelope.e.type === 'joined') {
    await noteRoom(link, nodeOf(envelope.e.origin), room, noted);
  }
  const reply = (await link.script(
    SEQUENCE,
    [...roomKeyList(keys), keys.moved, keys.incoming],
    [
      keys.channel,
      JSON.stringify(envelope),
      String(streamLength),
      newEpoch(),
      JSON.stringify(ops),
      link.sharded ? 'SPUBLISH' : 'PUBLISH',
      // Listed for replays' tails (TAIL): what the store keeps of it.
      envelope.e.type === 'message' && isKept(envelope.e) ? '1' : '0',
      join ? '1' : '0',
      join ? expect : '',
    ],
  )) as RedisReply[];
  if (Number(reply[0]) === -5) {
    // A rename between two slots of a cluster is moving a room to this name: once it is
    // here, the event is sequenced in it (a JOIN of the new name joins the renamed room).
    await awaitArrival(link, room);
    return sequenceEnvelope(link, envelope, defaultRoom, streamLength, noted, expect);
  }
  if (Number(reply[0]) === -6) throw new EpochChanged(text(reply[1]));
  // A lost session's leave, its name held by someone else now: it did not happen.
  if (Number(reply[0]) === -7) return { p: -1, x: '', skipped: true };
  if (Number(reply[0]) === -1) {
    // The room was renamed before this node heard of it: the event goes to the new name,
    // so it still happens in the room (a quit, a part), at the new name's next offset.
    const to = text(reply[1]);
    const moved = forwardTo(envelope, room, to);
    const at = await sequenceEnvelope(link, moved, defaultRoom, streamLength, noted);
    return { ...at, c: moved.c, e: moved.e };
  }
  return { p: Number(reply[0]), x: text(reply[1]) };
}

export class RedisBus extends ClusterBus {
  readonly name = 'redis';
  protected override readonly sequenced = true;
  protected override get resends(): boolean {
    return this.link.sharded;
  }
  private readonly channels = new Map<string, string>();
  private probeTimer: NodeJS.Timeout | null = null;
  /** The probe round's number: each round's probes carry it. */
  private probeRound = 0;
  /** Per Redis channel, the highest round of this node's probes that came back on it. */
  private readonly probeSeen = new Map<string, number>();
  /** One probe per shard this node listens on ('' the one Redis): see `probe`. */
  private readonly shardProbes = new Map<string, ShardProbe>();
  /** Where each room channel's shard was at the last round (a reshard moves it). */
  private readonly roomShards = new Map<string, string>();
  /** The template's channels this node listens to (rooms, its own, everyone's). */
  private readonly listening = new Set<string>();
  private lastProbeAt = 0;
  private readonly stall = new LoopStall();
  private subscriptionOk = true;
  private readonly noted: NotedRooms = new Map();

  private constructor(
    readonly link: RedisLink,
    private readonly o: RedisBusOptions,
    nodeId: string,
    nodeNumber: number,
  ) {
    super(nodeId, nodeNumber);
  }

  /** Connects, and leases a node number (0-999) for message ids. */
  static async connect(o: RedisBusOptions): Promise<RedisBus> {
    const link = await connectRedis({ url: o.url, log: o.log, preload: [SEQUENCE] });
    const nodeId = newNodeId();
    const leaseMs = o.leaseMs ?? 10_000;
    const start = Math.floor(Math.random() * 1000);
    for (let i = 0; i < 1000; i++) {
      const n = (start + i) % 1000;
      const got = await link.command(['SET', slotKey(n), nodeId, 'NX', 'PX', String(leaseMs * 3)]);
      if (got === 'OK') return new RedisBus(link, o, nodeId, n);
    }
    await link.close();
    throw new Error('no free node number in Redis (1,000 nodes hold one)');
  }

  override healthy(): boolean {
    return super.healthy() && this.link.up && this.subscriptionOk;
  }

  protected async open(): Promise<void> {
    this.link.onChange((up, reason) => {
      this.o.log.warn({ up, reason }, up ? 'redis back' : 'redis unreachable');
      this.status(up && this.subscriptionOk, reason);
      if (up) void this.catchUp();
    });
    const probeMs = this.o.probeMs ?? PROBE_MS;
    this.stall.start();
    this.lastProbeAt = performance.now();
    // The round looks after the poll phase that follows the timer (setImmediate): an
    // answer that arrived while this process was stalled is read before it is missed.
    this.probeTimer = setInterval(() => setImmediate(() => void this.probe()), probeMs);
    this.probeTimer.unref();
  }

  /** The Redis channel for one of the template's channels. */
  private redisChannel(channel: string): string {
    let c = this.channels.get(channel);
    if (c === undefined) {
      if (channel === ALL) c = allRedisChannel;
      else if (channel.startsWith('r:')) c = roomKeys(channel.slice(2)).channel;
      else c = nodeRedisChannel(channel.slice(2));
      this.channels.set(channel, c);
    }
    return c;
  }

  protected transmit(channel: string, envelope: Envelope): void {
    this.link
      .publish(this.redisChannel(channel), JSON.stringify(envelope))
      .catch((err: unknown) => this.o.log.warn({ err, channel }, 'redis publish failed'));
  }

  protected override sequence(envelope: Envelope): Promise<Position> {
    // On a cluster, a room on a shard that is up could still be sequenced while another
    // shard is away; refused all the same, so that "sending is paused" holds for every
    // room, as on one Redis (and a node's or everyone's channel on the missing shard
    // does not silently lose what a room event implies: quits, kills, notices).
    if (!this.link.up) return Promise.reject(new Error('redis unreachable'));
    if (envelope.e.type === 'joined') return this.sequenceJoin(envelope);
    return sequenceEnvelope(
      this.link,
      envelope,
      this.o.defaultRoom,
      this.o.streamLength,
      this.noted,
    );
  }

  /**
   * A join is sequenced only in the epoch of this node's replica of the room when it was
   * emitted, the replica the core checked it against (read here before any await: `emit`
   * calls this in the same turn). A room in another epoch (SEQUENCE's -6) changed under
   * the replica since its snapshot: a rename moved another room onto the name, or Redis
   * lost it. While nobody here is in the room, it is read again (ClusterBus.retake) and
   * the join refused with RoomChangedError: the core checks it against the room as it is
   * and sends it again, to land after that snapshot, where the feed resumed from it
   * delivers it, once. With someone here in the room its history was lost (the feed says
   * so) and this replica is the room: the join goes on in the new epoch.
   */
  private async sequenceJoin(envelope: Envelope): Promise<Position> {
    const send = (expect: string) =>
      sequenceEnvelope(
        this.link,
        envelope,
        this.o.defaultRoom,
        this.o.streamLength,
        this.noted,
        expect,
      );
    try {
      return await send(this.feeds.base(envelope.c) ?? '');
    } catch (err) {
      if (!(err instanceof EpochChanged)) throw err;
      // Read again already (the room's feed met the new epoch first, or the room renamed
      // here took the name): only the checks are out of date.
      if (this.feeds.base(envelope.c) !== err.epoch) {
        const taking = this.retake(envelope.c, err.epoch === '' ? null : err.epoch);
        if (!taking) return send('');
        await taking;
      }
      throw new RoomChangedError(envelope.c.slice(2));
    }
  }

  /**
   * Redis may no longer hold this node's rooms set (it lost its data, or another node
   * cleaned this one up as dead): the next join of each room notes it again.
   */
  forgetNotedRooms(): void {
    this.noted.clear();
  }

  protected override async recover(
    channel: string,
    epoch: string,
    from: number,
    to: number,
  ): Promise<Envelope[]> {
    const keys = roomKeys(channel.slice(2));
    const reply = (await this.link.script(
      RECOVER,
      [keys.meta, keys.log],
      [epoch, String(from), String(to)],
    )) as RedisReply[];
    return this.envelopesOf(reply, epoch);
  }

  async messagesBefore(
    room: string,
    epoch: string,
    before: number,
    count: number,
  ): Promise<{ messages: StreamEvent[]; next: number }> {
    if (before <= 1 || count <= 0) return { messages: [], next: 0 };
    const keys = roomKeys(room);
    const reply = (await this.link.script(
      TAIL,
      [keys.meta, keys.log, keys.messages],
      [epoch, String(before - 1), String(count)],
    )) as RedisReply[];
    const entries = Array.isArray(reply[1]) ? (reply[1] as RedisReply[]) : [];
    return {
      messages: this.envelopesOf(entries, epoch).map((e) => ({
        offset: e.p as number,
        event: e.e,
      })),
      next: Number(reply[0]) || 0,
    };
  }

  /** Stream entries (`<offset>-1`, field `d` the envelope) as envelopes with their position. */
  private envelopesOf(reply: RedisReply[], epoch: string): Envelope[] {
    const out: Envelope[] = [];
    for (const entry of reply) {
      if (!Array.isArray(entry)) continue;
      const id = text(entry[0]);
      const fields = pairsOf(entry[1]);
      const payload = fields.find(([k]) => k === 'd')?.[1];
      if (!payload) continue;
      try {
        const e = JSON.parse(payload) as Envelope;
        e.p = Number(id.split('-')[0]);
        e.x = epoch;
        out.push(e);
      } catch {
        this.stats.malformed++;
      }
    }
    return out;
  }

  async snapshot(room: string): Promise<RoomSnapshot> {
    const keys = roomKeys(room);
    let r: RedisReply[];
    for (;;) {
      r = (await this.link.script(
        SNAPSHOT,
        [...roomKeyList(keys), keys.moved, keys.incoming],
        [newEpoch()],
      )) as RedisReply[];
      if (Number(r[0]) !== -5) break;
      // A room on its way here (a rename between two cluster slots): its state, once here.
      await awaitArrival(this.link, room);
    }
    const members: [string, RemoteMember][] = [];
    for (const [key, raw] of pairsOf(r[3])) {
      try {
        const m = JSON.parse(raw) as RemoteMember & { roles?: number };
        members.push([key, { ...m, roles: m.roles ?? 0, away: m.away ?? null }]);
      } catch {
        this.stats.malformed++;
      }
    }
    const bans: BanEntry[] = [];
    for (const [, raw] of pairsOf(r[4])) {
      try {
        bans.push(JSON.parse(raw) as BanEntry);
      } catch {
        this.stats.malformed++;
      }
    }
    return {
      offset: Number(r[0]),
      epoch: text(r[1]),
      state: Object.fromEntries(pairsOf(r[2])),
      members,
      bans,
      mutes: pairsOf(r[5]).map(([k, v]) => [k, v === '' ? null : Number(v)]),
      invited: listOf(r[6]),
    };
  }

  /** After Redis lost its data: puts back what this node holds of a room (RESTORE). */
  async restoreRoom(room: Room): Promise<void> {
    const keys = roomKeys(room.key);
    const members: [string, string][] = [];
    for (const [s, roles] of room.local) {
      members.push([
        fold(s.name),
        JSON.stringify({
          name: s.name,
          mask: s.mask,
          account: s.account,
          realname: s.realname,
          away: s.away,
          origin: s.id,
          roles,
        }),
      ]);
    }
    const fields: Record<string, string> = {
      name: room.name,
      topic: room.topic,
      topicBy: room.topicBy,
      topicAt: String(room.topicAt),
      key: room.modes.key ?? '',
      limit: String(room.modes.limit),
      owner: room.owner ?? '',
    };
    for (const flag of ROOM_FLAGS) fields[`flag:${flag}`] = room.modes[flag] ? '1' : '0';
    // The room in this node's rooms set before its members are back (see noteRoom).
    await noteRoom(this.link, this.nodeId, room.key, this.noted);
    await this.link.script(RESTORE, roomKeyList(keys), [
      JSON.stringify(members),
      JSON.stringify(fields),
      JSON.stringify(room.bans.map((b) => [fold(b.mask), JSON.stringify(b)])),
      JSON.stringify([...room.mutes].map(([k, v]) => [k, v === null ? '' : String(v)])),
    ]);
  }

  protected async listen(channel: string): Promise<void> {
    const room = channel.startsWith('r:');
    const redisChannel = this.redisChannel(channel);
    const mine = `${PROBE}${this.nodeId}:`;
    this.listening.add(channel);
    await this.link.subscribe(redisChannel, (payload) => {
      if (payload.startsWith(PROBE)) {
        // Another node's probe through a room both listen to is not ours to count.
        if (!payload.startsWith(mine)) return;
        const round = Number(payload.slice(mine.length)) || 0;
        if (round > (this.probeSeen.get(redisChannel) ?? 0))
          this.probeSeen.set(redisChannel, round);
        return;
      }
      try {
        if (room) {
          // `offset:epoch:envelope`
          const a = payload.indexOf(':');
          const b = payload.indexOf(':', a + 1);
          const e = JSON.parse(payload.slice(b + 1)) as Envelope;
          e.p = Number(payload.slice(0, a));
          e.x = payload.slice(a + 1, b);
          this.receive(e);
        } else {
          this.receive(JSON.parse(payload) as Envelope);
        }
      } catch {
        this.stats.malformed++;
      }
    });
  }

  protected async unlisten(channel: string): Promise<void> {
    this.listening.delete(channel);
    this.roomShards.delete(channel);
    await this.link.unsubscribe(this.redisChannel(channel)).catch(() => {});
  }

  /** Own events on non-room channels are delivered here at once (they are not ordered). */
  protected loopback(event: ChatEvent): Promise<void> {
    this.deliverOwn(event);
    return Promise.resolve();
  }

  protected async shutdown(): Promise<void> {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.stall.stop();
    // Two slots on a cluster: two commands.
    await Promise.allSettled([
      this.link.command(['DEL', slotKey(this.nodeNumber)]),
      this.link.command(['DEL', leaseKey(this.nodeId)]),
    ]);
    await this.link.close();
  }

  /**
   * Probes every shard this node listens on: a probe (`probe:<node>:<round>`) goes out on
   * one channel of each (this node's own where that shard serves it, else one of its rooms,
   * else everyone's), and the previous round's must have come back on the same. On one
   * Redis that is one probe on the node's own channel; on a cluster each shard's sharded
   * pub/sub connection is its own and can fall silent alone, so each is checked (a probe
   * through a room reaches the room's other nodes too, who drop it: one small message per
   * shard and node in the room, every period).
   *
   * A round is judged only if this process had time to read the answers: half the period
   * at least of its own event loop running, not stalled (LoopStall) — a CPU-starved node
   * that could not read is not an outage. Else a probe out stays out, and the next round
   * looks again. `PROBE_MISSES` judged misses in a row make a shard silent (and the bus
   * unhealthy); its channels are subscribed again at each miss, and once its probe is
   * back its rooms are caught up from their streams (what was published while it was
   * silent), as after a reconnect.
   */
  private async probe(): Promise<void> {
    const now = performance.now();
    const window = now - this.lastProbeAt;
    this.lastProbeAt = now;
    const stalled = this.stall.take();
    if (!this.link.up) return;
    const probeMs = this.o.probeMs ?? PROBE_MS;
    const judged = window - stalled >= probeMs / 2;
    const targets = this.probeTargets();
    this.followMovedRooms();
    const round = ++this.probeRound;
    for (const [shard, channel] of targets) {
      let probe = this.shardProbes.get(shard);
      if (probe) {
        const back = (this.probeSeen.get(probe.channel) ?? 0) >= probe.sent;
        if (!back && !judged) {
          this.o.log.info(
            { shard, windowMs: Math.round(window), stalledMs: Math.round(stalled) },
            'redis probe not judged: this process was stalled',
          );
          continue;
        }
        probe.misses = back ? 0 : probe.misses + 1;
        const ok = back || (probe.misses < PROBE_MISSES && probe.ok);
        if (ok !== probe.ok) {
          probe.ok = ok;
          this.o.log.warn(
            { ok, shard },
            ok ? 'redis subscription delivers again' : 'redis subscription silent',
          );
          // What the shard published while it was silent is in its rooms' streams.
          if (ok) void this.catchUpShard(shard);
        }
        // Subscribe again: a pub/sub connection that stopped delivering is not trusted.
        if (!back) void this.resubscribeShard(shard, probe);
      } else {
        probe = { channel, sent: 0, misses: 0, ok: true, resubscribing: false };
        this.shardProbes.set(shard, probe);
      }
      probe.channel = channel;
      probe.sent = round;
      void this.link.publish(channel, `${PROBE}${this.nodeId}:${round}`).catch(() => {});
    }
    // A shard this node no longer listens on is no longer probed.
    for (const shard of [...this.shardProbes.keys()]) {
      if (!targets.has(shard)) this.shardProbes.delete(shard);
    }
    const ok = [...this.shardProbes.values()].every((p) => p.ok);
    if (ok !== this.subscriptionOk) {
      this.subscriptionOk = ok;
      this.status(ok, ok ? 'subscription back' : 'subscription stopped delivering');
    }
    // Keep the node number ours while we live.
    await this.link
      .command(['PEXPIRE', slotKey(this.nodeNumber), String((this.o.leaseMs ?? 10_000) * 3)])
      .catch(() => {});
  }

  /** For each shard this node listens on, the Redis channel its probe goes out on. */
  private probeTargets(): Map<string, string> {
    const own = nodeChannel(this.nodeId);
    const rank = (c: string): number => (c === own ? 0 : c.startsWith('r:') ? 1 : 2);
    const best = new Map<string, { channel: string; rank: number }>();
    for (const c of this.listening) {
      const redisChannel = this.redisChannel(c);
      const shard = this.link.shardOf(redisChannel);
      const r = rank(c);
      const had = best.get(shard);
      if (!had || r < had.rank) best.set(shard, { channel: redisChannel, rank: r });
    }
    return new Map([...best].map(([shard, b]) => [shard, b.channel]));
  }

  /**
   * A room whose slot moved to another shard (a reshard, a failover): Redis unsubscribed
   * it on the old owner (SUNSUBSCRIBE) and node-redis subscribes it on the new one; what
   * was published between the two is caught up from the room's stream.
   */
  private followMovedRooms(): void {
    for (const channel of this.listening) {
      if (!channel.startsWith('r:')) continue;
      const shard = this.link.shardOf(this.redisChannel(channel));
      const was = this.roomShards.get(channel);
      this.roomShards.set(channel, shard);
      if (was !== undefined && was !== shard) {
        this.o.log.info({ channel, from: was, to: shard }, 'a room moved to another shard');
        void this.catchUpRoom(channel);
      }
    }
  }

  /** The template channels this node listens to whose shard is `shard`. */
  private channelsOn(shard: string): string[] {
    return [...this.listening].filter((c) => this.link.shardOf(this.redisChannel(c)) === shard);
  }

  /** Every channel of a silent shard, unsubscribed and subscribed again. */
  private async resubscribeShard(shard: string, probe: ShardProbe): Promise<void> {
    if (probe.resubscribing) return;
    probe.resubscribing = true;
    try {
      for (const channel of this.channelsOn(shard)) {
        await this.link.unsubscribe(this.redisChannel(channel)).catch(() => {});
        // Left meanwhile: not listened to again.
        if (this.listening.has(channel)) await this.listen(channel).catch(() => {});
      }
    } finally {
      probe.resubscribing = false;
    }
  }

  /** A shard delivers again: its rooms are caught up from their streams. */
  private async catchUpShard(shard: string): Promise<void> {
    for (const channel of this.channelsOn(shard)) {
      if (channel.startsWith('r:')) await this.catchUpRoom(channel);
    }
  }

  /** After a reconnect: every room this node holds, from where it was to where Redis is. */
  private async catchUp(): Promise<void> {
    for (const channel of this.watchedRooms()) await this.catchUpRoom(channel);
  }

  private async catchUpRoom(channel: string): Promise<void> {
    const keys = roomKeys(channel.slice(2));
    try {
      // On a cluster a renamed room's keys may still be on their way to the new name's
      // slot: its offset is read once they are there (else it would look like a room Redis
      // lost). Both a rename (caughtUp) and a shard's new pub/sub connection coming up
      // (catchUp) get here while they may be.
      await awaitArrival(this.link, channel.slice(2));
      const meta = pairsOf(await this.link.command(['HGETALL', keys.meta]));
      const m = Object.fromEntries(meta);
      await this.feeds.catchUp(channel, m.e ?? '', Number(m.s ?? 0));
    } catch (err) {
      this.o.log.warn({ err, channel }, 'catching up failed');
    }
  }

  /**
   * A room this node holds was renamed: its new channel is listened to; what the other
   * nodes said there before comes from the stream. The node's rooms set (GHOSTS) gets the
   * new name, so a lease cleanup finds this node's members under it.
   */
  protected override async caughtUp(channel: string): Promise<void> {
    await noteRoom(this.link, this.nodeId, channel.slice(2), this.noted).catch(() => {});
    await this.catchUpRoom(channel);
  }

  /** The prefix keys live under (tests clean up with it). */
  static readonly prefix = PREFIX;
}
