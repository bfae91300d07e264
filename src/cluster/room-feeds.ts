/**
 * Per-room ordering for a bus whose transport sequences each room (Redis: one script per
 * event assigns the room's next offset, within an epoch that changes when Redis lost the
 * room's data). Every node, the sender's included, delivers a room's events in offset
 * order, so every recipient everywhere sees the same order.
 *
 * Envelopes reach a feed from two sources: the transport's subscription (everyone's), and
 * the sender's own emit once the transport said which offset it got. Whichever comes first
 * is kept; a run of consecutive offsets is delivered as soon as it is complete. A hole
 * (an offset that did not come: a dropped connection, a lost message) is asked for from the
 * transport's stream of recent events; what the stream no longer holds is reported as a gap
 * and skipped. This is how Centrifugo keeps order and recovers (its Redis broker).
 *
 * A new epoch under a feed is Redis having lost the room's data or, for a room this node
 * holds only for joins still on their way (nobody here in it yet), maybe a rename that
 * moved another room onto the name after this node read its snapshot. The host says what
 * to do (`retake`): read the room again, the feed held until it resumes from that snapshot
 * (nobody here saw any of the room's history, so none is reported lost); or report the
 * history lost and start over at the new epoch.
 */
import type { Envelope } from './bus.js';

/** What the feeds need from the bus. */
export interface FeedHost {
  /** Delivers one envelope's event (de-duplicated by the host across channels). */
  deliver(envelope: Envelope): void;
  /** The envelopes of `channel` with offsets from..to (inclusive) still in the stream. */
  recover(channel: string, epoch: string, from: number, to: number): Promise<Envelope[]>;
  /** Events were lost for good (`missed` of them), or the epoch changed (`missed` -1). */
  lost(channel: string, missed: number): void;
  /**
   * The room's epoch changed under its feed: true when the host takes the room's state
   * again (a snapshot) and will `resume` the feed from it; false when the room's history
   * is lost (`lost` -1) and the feed goes on from the new epoch's events as they come.
   */
  retake(channel: string): boolean;
}

interface Feed {
  /** Waiting for `resume` (the snapshot it starts from): everything is kept, nothing delivered. */
  held: boolean;
  /** The epoch of the envelopes kept or delivered: while held, of those kept. */
  epoch: string | null;
  /**
   * The epoch of what has been delivered (the replica's): set by `resume` and when the feed
   * starts over in a new epoch; a join is sequenced only in it (redis-bus.ts `sequence`).
   */
  base: string | null;
  /** The next offset to deliver, or null before the first envelope. */
  next: number | null;
  /** Envelopes that came ahead of a hole, by offset. */
  ahead: Map<number, Envelope>;
  recovering: boolean;
}

export class RoomFeeds {
  private readonly feeds = new Map<string, Feed>();

  constructor(private readonly host: FeedHost) {}

  /**
   * Starts ordering a channel. `held`: nothing is delivered until `resume` says where the
   * node's state starts (a snapshot's offset + 1); what arrives meanwhile is kept.
   */
  open(channel: string, held = false): void {
    if (this.feeds.has(channel)) return;
    this.feeds.set(channel, {
      held,
      epoch: null,
      base: null,
      next: null,
      ahead: new Map(),
      recovering: false,
    });
  }

  /**
   * A held channel starts at `next` of `epoch`: earlier offsets are in the snapshot. A feed
   * that is not held was resumed already, from the snapshot its replica was built from:
   * another snapshot (a second join's, read at the same time) does not move it.
   */
  resume(channel: string, epoch: string, next: number): void {
    const feed = this.feeds.get(channel);
    if (!feed?.held) return;
    feed.held = false;
    if (feed.epoch !== null && feed.epoch !== epoch) feed.ahead.clear();
    feed.epoch = epoch;
    feed.base = epoch;
    feed.next = next;
    for (const p of [...feed.ahead.keys()]) if (p < next) feed.ahead.delete(p);
    this.drain(channel, feed);
  }

  close(channel: string): void {
    this.feeds.delete(channel);
  }

  has(channel: string): boolean {
    return this.feeds.has(channel);
  }

  /** The epoch of what a channel's feed has delivered (null: nothing, or no feed). */
  base(channel: string): string | null {
    return this.feeds.get(channel)?.base ?? null;
  }

  /**
   * Holds a channel until `resume` (the host takes the room's state again): envelopes of
   * `epoch` are kept meanwhile (null: of whichever epoch comes first), others dropped. A
   * feed held already stays as it is (what it keeps is for the same resume).
   */
  hold(channel: string, epoch: string | null): void {
    const feed = this.feeds.get(channel);
    if (!feed || feed.held) return;
    feed.held = true;
    if (feed.epoch !== epoch) feed.ahead.clear();
    feed.epoch = epoch;
  }

  /**
   * A feed that is not held meets `epoch`, not its own: held for the host's new snapshot
   * when the host takes one (true), else the history is reported lost (the caller starts
   * the feed over).
   */
  private changed(channel: string, epoch: string | null): boolean {
    if (this.host.retake(channel)) {
      this.hold(channel, epoch);
      return true;
    }
    this.host.lost(channel, -1);
    return false;
  }

  /** An envelope with its position (`p`, `x`), from either source. */
  place(envelope: Envelope): void {
    const feed = this.feeds.get(envelope.c);
    const p = envelope.p;
    if (!feed || p === undefined) {
      // Not ordered here (no members on this node): nothing to keep in order.
      this.host.deliver(envelope);
      return;
    }
    const epoch = envelope.x ?? '';
    if (feed.held) {
      if (feed.epoch === null || feed.epoch === epoch) {
        feed.epoch = epoch;
        feed.ahead.set(p, envelope);
      }
      return;
    }
    if (feed.epoch !== epoch) {
      if (feed.epoch !== null && this.changed(envelope.c, epoch)) {
        // Kept for the resume that follows the host's snapshot.
        feed.ahead.set(p, envelope);
        return;
      }
      // Redis lost this room's data (or this is the first envelope): start over here.
      feed.epoch = epoch;
      feed.base = epoch;
      feed.next = p;
      feed.ahead.clear();
    }
    if (feed.next === null) feed.next = p;
    if (p < feed.next || feed.ahead.has(p)) return; // already had it
    feed.ahead.set(p, envelope);
    this.drain(envelope.c, feed);
  }

  private drain(channel: string, feed: Feed): void {
    if (feed.held) return;
    for (;;) {
      const next = feed.next as number;
      const e = feed.ahead.get(next);
      if (!e) break;
      feed.ahead.delete(next);
      feed.next = next + 1;
      this.host.deliver(e);
      // Delivering it may have closed the feed (a rename moves the room to another one).
      if (this.feeds.get(channel) !== feed) return;
    }
    if (feed.ahead.size > 0 && !feed.recovering) void this.recover(channel, feed);
  }

  /** Asks the stream for the hole before the first envelope that came ahead of it. */
  private async recover(channel: string, feed: Feed): Promise<void> {
    feed.recovering = true;
    try {
      const from = feed.next as number;
      const to = Math.min(...feed.ahead.keys()) - 1;
      const epoch = feed.epoch ?? '';
      let found: Envelope[] = [];
      try {
        found = await this.host.recover(channel, epoch, from, to);
      } catch {
        // The transport is away: the next envelope (or its reconnect) tries again.
        return;
      }
      if (this.feeds.get(channel) !== feed || feed.epoch !== epoch) return;
      for (const e of found)
        if (e.p !== undefined && e.p >= (feed.next as number)) feed.ahead.set(e.p, e);
      // What the stream no longer holds is gone: say how much, and go on after it.
      let missed = 0;
      for (let p = feed.next as number; p <= to; p++) if (!feed.ahead.has(p)) missed++;
      if (missed > 0) {
        this.host.lost(channel, missed);
        while (!feed.ahead.has(feed.next as number) && (feed.next as number) <= to) {
          feed.next = (feed.next as number) + 1;
        }
      }
    } finally {
      feed.recovering = false;
    }
    this.drain(channel, feed);
  }

  /** After the transport reconnected: fetch what was published meanwhile, up to `top`. */
  async catchUp(channel: string, epoch: string, top: number): Promise<void> {
    const feed = this.feeds.get(channel);
    // Held: the resume that ends it starts from a snapshot newer than anything missed.
    if (!feed || feed.held || feed.next === null) return;
    if (epoch === '') {
      // The transport knows nothing of this room any more (it lost its data): say so
      // once, and start again from whatever comes next.
      if (this.changed(channel, null)) return;
      feed.epoch = null;
      feed.next = null;
      feed.ahead.clear();
      return;
    }
    if (feed.epoch !== epoch) {
      if (this.changed(channel, epoch)) return;
      feed.epoch = epoch;
      feed.base = epoch;
      feed.next = top + 1;
      feed.ahead.clear();
      return;
    }
    if (top < feed.next) return;
    // Pretend the top arrived ahead: recovery fills everything before it.
    const found = await this.host.recover(channel, epoch, feed.next, top);
    for (const e of found) if (e.p !== undefined) this.place(e);
    if ((feed.next as number) <= top) {
      this.host.lost(channel, top - (feed.next as number) + 1);
      feed.next = top + 1;
      this.drain(channel, feed);
    }
  }

  /** The position a channel is at (tests, resume). */
  position(channel: string): { epoch: string | null; next: number | null } | undefined {
    const feed = this.feeds.get(channel);
    return feed ? { epoch: feed.epoch, next: feed.next } : undefined;
  }
}
