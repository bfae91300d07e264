/**
 * The bus template (the shape of socket.io's ClusterAdapter): this base class owns the
 * protocol — the envelope, channels, local delivery, dropping a node's own events,
 * de-duplication and gap detection — and a subclass only moves payloads: `transmit` to a
 * channel, `listen`/`unlisten`, and `loopback`, which decides when this node delivers its
 * own event (at once for the in-process bus, on a later turn for the test bus, once
 * sequenced for a networked one).
 *
 * Channels: `r:<room>` per room (a node listens only while it has members there), `n:<node>`
 * per node (private messages, invites, notices to one person), `all` (server notices).
 * An envelope is `{o, s, c, k, e}`: origin node, the origin's event sequence (one number
 * per emitted event, the same on every channel it goes to), the channel, the origin's
 * sequence on that channel (a jump is a gap), and the event.
 *
 * A `sequenced` transport (Redis) also orders each room: it gives every room envelope an
 * offset `p` within an epoch `x`, and then room events are delivered in offset order on
 * every node, the sender's included (room-feeds.ts), rather than the sender's at once.
 */
import type { ChatEvent } from '../core/events.js';
import type { Bus, BusRoute, BusSink } from '../core/ports.js';
import { RoomFeeds } from './room-feeds.js';
import { SenderOrder } from './sender-order.js';

export interface Envelope {
  o: string;
  s: number;
  c: string;
  k: number;
  e: ChatEvent;
  /** Offset in the room, from a sequencing transport. */
  p?: number;
  /** The room's epoch, likewise. */
  x?: string;
}

/** Where a sequencing transport put an envelope. */
export interface Position {
  p: number;
  x: string;
  /**
   * The channel and event it was sequenced as, when not the ones sent: an event for a
   * room that had just been renamed went to the new name (redis-rename.ts `forwardTo`).
   */
  c?: string;
  e?: ChatEvent;
  /**
   * Not sequenced, since it changes nothing (a lost session's leave where someone else
   * holds the name now): delivered nowhere.
   */
  skipped?: boolean;
}

export const ALL = 'all';
export const roomChannel = (room: string): string => `r:${room}`;
export const nodeChannel = (node: string): string => `n:${node}`;

/** The last few event sequences seen from one origin: an event sent to several channels arrives once per channel. */
class Recent {
  private readonly ring: number[] = [];
  private readonly set = new Set<number>();
  private at = 0;

  constructor(private readonly size = 512) {}

  /** True the first time `seq` is offered. */
  fresh(seq: number): boolean {
    if (this.set.has(seq)) return false;
    if (this.ring.length < this.size) this.ring.push(seq);
    else {
      this.set.delete(this.ring[this.at] as number);
      this.ring[this.at] = seq;
      this.at = (this.at + 1) % this.size;
    }
    this.set.add(seq);
    return true;
  }
}

interface OriginState {
  recent: Recent;
  /** Last channel sequence seen per channel. */
  last: Map<string, number>;
}

export class BusClosedError extends Error {
  constructor(name: string) {
    super(`the ${name} bus is not running`);
  }
}

export abstract class ClusterBus implements Bus {
  abstract readonly name: string;
  /**
   * True when the transport may run a room's script again after a later one was sent (a
   * Redis Cluster's MOVED/ASK, sender-order.ts): one sender's scripts then go a batch at a
   * time. One Redis runs one connection's scripts in the order sent (and has them loaded
   * before it counts as up: no NOSCRIPT resend), so there they go at once.
   */
  protected get resends(): boolean {
    return false;
  }
  /** True when the transport orders each room's events (see the header). */
  protected readonly sequenced: boolean = false;
  protected sink: BusSink | null = null;
  private seq = 0;
  /** This node's sequenced emits waiting for their local delivery, by sequence. */
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  protected readonly feeds = new RoomFeeds({
    deliver: (envelope) => this.deliverOnce(envelope),
    recover: (channel, epoch, from, to) => this.recover(channel, epoch, from, to),
    lost: (channel, missed) => this.sink?.gap('', channel, missed),
    retake: (channel) => this.sink?.retake?.(channel) != null,
  });
  private readonly channelSeq = new Map<string, number>();
  private readonly order = new SenderOrder();
  /**
   * This node's own events that went to a room's new name before this node applied the
   * rename, by the old name's channel: placed in the new name's feed when the rename is
   * applied, delivered as they are if this node stops watching the old name first.
   */
  private readonly early = new Map<string, Envelope[]>();
  private readonly origins = new Map<string, OriginState>();
  private readonly watched = new Set<string>();
  /** Counted for metrics: payloads that were not envelopes, duplicates, events lost. */
  readonly stats = { received: 0, malformed: 0, duplicates: 0, gaps: 0 };

  constructor(
    readonly nodeId: string,
    readonly nodeNumber: number,
  ) {}

  async start(sink: BusSink): Promise<void> {
    await this.open();
    this.sink = sink;
    await this.listen(nodeChannel(this.nodeId));
    await this.listen(ALL);
  }

  emit(event: ChatEvent, route: BusRoute): Promise<void> {
    if (!this.sink) return Promise.reject(new BusClosedError(this.name));
    const s = ++this.seq;
    const rooms = this.sequenced && !route.everyone ? (route.rooms ?? []) : [];
    const channels = this.channelsOf(route, rooms.length === 0);
    const envelope = (c: string): Envelope => {
      const k = (this.channelSeq.get(c) ?? 0) + 1;
      this.channelSeq.set(c, k);
      return { o: this.nodeId, s, c, k, e: event };
    };
    if (rooms.length === 0) {
      const local = this.loopback(event);
      for (const c of channels) this.transmit(c, envelope(c));
      return local;
    }
    // Sequenced rooms: delivered here in offset order, like everyone else's events.
    const local = new Promise<void>((resolve, reject) => this.waiting.set(s, { resolve, reject }));
    for (const c of channels) this.transmit(c, envelope(c));
    // Rooms where it was not sequenced (Position.skipped): when none was, it is done here.
    let unsequenced = 0;
    for (const room of rooms) {
      const e = envelope(roomChannel(room));
      // One sender's events keep their order in the room (sender-order.ts), where the
      // transport may send a script again after a later one.
      const sender = `${room}\0${'origin' in event ? event.origin : ''}`;
      const sequenced = this.resends
        ? this.order.run(sender, event.type === 'message', () => this.sequence(e))
        : this.sequence(e);
      sequenced.then(
        (at) => {
          if (at.skipped) {
            if (++unsequenced === rooms.length) this.settle(s);
            return;
          }
          e.p = at.p;
          e.x = at.x;
          if (at.c !== undefined && at.e !== undefined) {
            // Sent on to the room's new name (the room was renamed meanwhile): delivered
            // in the new name's order, once this node has applied the rename.
            e.c = at.c;
            e.e = at.e;
            const from = roomChannel(room);
            if (!this.feeds.has(e.c) && this.watched.has(from)) {
              const early = this.early.get(from) ?? [];
              early.push(e);
              this.early.set(from, early);
              return;
            }
          }
          this.feeds.place(e);
        },
        (err: unknown) => {
          const w = this.waiting.get(s);
          this.waiting.delete(s);
          w?.reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    }
    return local;
  }

  /**
   * This node has members in `room` and wants its events. On a sequenced transport they
   * are held until `resume` says from which offset the node's replica needs them.
   */
  watch(room: string): void {
    const c = roomChannel(room);
    if (this.watched.has(c)) return;
    this.watched.add(c);
    if (this.sequenced) this.feeds.open(c, true);
    void this.listen(c);
  }

  resume(room: string, at: { epoch: string; next: number }): void {
    this.feeds.resume(roomChannel(room), at.epoch, at.next);
  }

  unwatch(room: string): void {
    const c = roomChannel(room);
    if (!this.watched.delete(c)) return;
    this.feeds.close(c);
    // Own events sent on to a new name this node will not apply now: delivered as they are.
    for (const e of this.early.get(c) ?? []) this.deliverOnce(e);
    this.early.delete(c);
    void this.unlisten(c);
    // A later watch starts afresh: what was sent meanwhile was not for us.
    for (const state of this.origins.values()) state.last.delete(c);
  }

  /**
   * A watched room was renamed (the core applied the rename, delivered from the old
   * name's feed): its feed goes on under the new name from the next offset, with the same
   * epoch, since a sequencing transport moved the room's offsets with it (redis-rename.ts).
   * What was published on the new name before this node listened there is fetched once it
   * does (`caughtUp`).
   */
  renamed(from: string, to: string): void {
    const a = roomChannel(from);
    const b = roomChannel(to);
    if (!this.watched.delete(a)) {
      this.watch(to);
      return;
    }
    const at = this.feeds.position(a);
    this.feeds.close(a);
    void this.unlisten(a);
    for (const state of this.origins.values()) state.last.delete(a);
    // Listened to already: this node held a replica of the new name for joins on their way
    // (rooms.ts `renamed`), whose feed, in the name's epoch before the rename, gives way.
    const listening = this.watched.has(b);
    this.watched.add(b);
    if (this.sequenced) {
      const known = at?.epoch != null && at.next !== null;
      this.feeds.close(b);
      this.feeds.open(b, known);
      if (known) this.feeds.resume(b, at.epoch as string, at.next as number);
      for (const e of this.early.get(a) ?? []) this.feeds.place(e);
    }
    this.early.delete(a);
    void (listening ? Promise.resolve() : this.listen(b)).then(
      () => this.caughtUp(b),
      () => {},
    );
  }

  /**
   * A sequencing transport: a join of `channel`'s room met the room in another epoch than
   * this node's replica (`epoch`; null: none, Redis lost it). If the core takes the room's
   * state again (nobody here is in it yet: a rename moved another room onto the name), the
   * feed is held until then and the promise settles once it has; null when it does not
   * (the room's history was lost: the join goes on in the new epoch).
   */
  protected retake(channel: string, epoch: string | null): Promise<void> | null {
    const taking = this.sink?.retake?.(channel) ?? null;
    if (taking) this.feeds.hold(channel, epoch);
    return taking;
  }

  /**
   * A sequencing transport: after listening to a renamed room's new channel, delivers what
   * was published there before (from its stream). Others: nothing to do.
   */
  protected caughtUp(_channel: string): Promise<void> {
    return Promise.resolve();
  }

  /** The room channels this node listens to. */
  protected watchedRooms(): string[] {
    return [...this.watched].filter((c) => c.startsWith('r:'));
  }

  /** Tells the core the bus can (no longer) deliver everything. */
  protected status(healthy: boolean, reason: string): void {
    this.sink?.status?.(healthy, reason);
  }

  /** Whether this node listens to a room's channel (tests, stats). */
  watching(room: string): boolean {
    return this.watched.has(roomChannel(room));
  }

  healthy(): boolean {
    return this.sink !== null;
  }

  async close(): Promise<void> {
    if (!this.sink) return;
    this.sink = null;
    for (const w of this.waiting.values()) w.reject(new BusClosedError(this.name));
    this.waiting.clear();
    await this.shutdown();
  }

  private channelsOf(route: BusRoute, withRooms: boolean): string[] {
    if (route.everyone) return [ALL];
    const out: string[] = [];
    if (withRooms) for (const room of route.rooms ?? []) out.push(roomChannel(room));
    for (const node of route.nodes ?? []) if (node !== this.nodeId) out.push(nodeChannel(node));
    return out;
  }

  /** A sequenced envelope in offset order: delivered once (it may come on several rooms). */
  private deliverOnce(envelope: Envelope): void {
    const sink = this.sink;
    if (!sink) return;
    if (!this.originState(envelope.o).recent.fresh(envelope.s)) {
      this.stats.duplicates++;
      return;
    }
    sink.deliver(envelope.e, envelope.p, envelope.x);
    if (envelope.o === this.nodeId) this.settle(envelope.s);
  }

  /** This node's emit of event `s` is done (delivered here, or delivered nowhere). */
  private settle(s: number): void {
    const w = this.waiting.get(s);
    this.waiting.delete(s);
    w?.resolve();
  }

  private originState(origin: string): OriginState {
    let state = this.origins.get(origin);
    if (!state) {
      state = { recent: new Recent(), last: new Map() };
      this.origins.set(origin, state);
    }
    return state;
  }

  /** Hands this node's own event to the sink, once; resolves after it was delivered. */
  protected deliverOwn(event: ChatEvent): void {
    this.sink?.deliver(event);
  }

  /** An envelope from another node, as the transport received it. */
  protected receive(envelope: Envelope): void {
    const sink = this.sink;
    if (!sink) return;
    this.stats.received++;
    if (!isEnvelope(envelope)) {
      this.stats.malformed++;
      return;
    }
    // Sequenced room envelopes go in offset order, ours included.
    if (envelope.p !== undefined) {
      this.feeds.place(envelope);
      return;
    }
    // Our own events were delivered when we emitted them.
    if (envelope.o === this.nodeId) return;
    const state = this.originState(envelope.o);
    const last = state.last.get(envelope.c);
    if (last !== undefined && envelope.k <= last) {
      this.stats.duplicates++;
      return;
    }
    state.last.set(envelope.c, envelope.k);
    if (last !== undefined && envelope.k > last + 1) {
      this.stats.gaps++;
      sink.gap(envelope.o, envelope.c, envelope.k - last - 1);
    }
    // The same event sent to several channels we listen to is delivered once.
    if (!state.recent.fresh(envelope.s)) {
      this.stats.duplicates++;
      return;
    }
    sink.deliver(envelope.e);
  }

  /**
   * Sequencing transports: assigns `envelope` its room's next offset, stores it in the
   * room's stream and publishes it; resolves with where it went. Others never get here.
   */
  protected sequence(_envelope: Envelope): Promise<Position> {
    return Promise.reject(new Error(`the ${this.name} bus does not sequence rooms`));
  }

  /** Sequencing transports: the stored envelopes of a room between two offsets. */
  protected recover(
    _channel: string,
    _epoch: string,
    _from: number,
    _to: number,
  ): Promise<Envelope[]> {
    return Promise.resolve([]);
  }

  /** Connects the transport (before anything is listened to). */
  protected abstract open(): Promise<void>;
  /** Sends an envelope to a channel's listeners on other nodes. */
  protected abstract transmit(channel: string, envelope: Envelope): void;
  protected abstract listen(channel: string): Promise<void>;
  protected abstract unlisten(channel: string): Promise<void>;
  /**
   * Delivers this node's own event (through `deliverOwn`) when the transport says it is
   * in order; the promise settles after that.
   */
  protected abstract loopback(event: ChatEvent): Promise<void>;
  protected abstract shutdown(): Promise<void>;
}

function isEnvelope(v: unknown): v is Envelope {
  const e = v as Envelope | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.o === 'string' &&
    typeof e.s === 'number' &&
    typeof e.c === 'string' &&
    typeof e.k === 'number' &&
    typeof e.e === 'object' &&
    e.e !== null &&
    typeof (e.e as { type?: unknown }).type === 'string'
  );
}
