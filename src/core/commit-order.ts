/**
 * A connection's output held behind the store's commits (--ack-after-commit). A `say`
 * whose acknowledgement must follow its commit does not hold the connection's next
 * requests: it puts a barrier in the output (`holdUntil(commit)`) and returns, and
 * whatever is written to the connection after it (its `ok`, the replies to the requests
 * behind it, events) waits there until that commit, then goes out in the order it was
 * written. So a pipelining client gets its replies in request order, one commit (one
 * batch interval) for a whole batch instead of one per message, and a request refused
 * meanwhile (the store is down: `store_unavailable`) is refused at once, in its turn.
 *
 * Invariants:
 * 1. Nothing written after a barrier reaches the link before the barrier's commit: an
 *    acknowledgement is never sent for a message that is not committed.
 * 2. Order: what this connection is sent leaves in the order it was written, as if every
 *    request had waited for its commit (what the server did before).
 * 3. Bounded: held bytes count against the send limit like queued ones (past it the
 *    connection is closed as a slow reader: nothing held is sent). A commit that fails
 *    for good (the store closed first) drops what waits behind it and closes.
 * 4. A close waits for the held output at most END_WAIT_MS (a store that stays down
 *    must not keep a socket open): then what is still held is dropped, unacknowledged.
 */
import type { Link } from './ports.js';

/** How long a closing connection waits for the commits its held output waits for. */
export const END_WAIT_MS = 5000;

class Barrier {
  settled = false;
  failed = false;
}

type Held = Buffer | Barrier;

/** `link` itself, or the link with its output ordered by commits when `ackAfterCommit`. */
export function orderedByCommits(link: Link, ackAfterCommit: boolean): Link {
  return ackAfterCommit ? new CommitOrderedLink(link) : link;
}

export class CommitOrderedLink implements Link {
  /** Output waiting behind a barrier, oldest first; null while nothing is held. */
  private held: Held[] | null = null;
  private heldBytes = 0;
  /** The newest barrier and its commit: messages of one batch share one barrier. */
  private lastCommit: Promise<void> | null = null;
  private lastBarrier: Barrier | null = null;
  private limit = Number.POSITIVE_INFINITY;
  private onOverflow: (() => void) | null = null;
  private drained: (() => void)[] | null = null;
  /** end() was called while output was held: what to end with once it is out. */
  private ending: { last: Buffer | null | undefined; reason: string | undefined } | null = null;
  private endTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Past the send limit: nothing more is written; the owner ends the link. */
  private overflowed = false;

  constructor(private readonly link: Link) {}

  get remoteAddress(): string {
    return this.link.remoteAddress;
  }

  get protocol(): string {
    return this.link.protocol;
  }

  get secure(): boolean {
    return this.link.secure;
  }

  onData(handler: (data: Buffer) => void): void {
    this.link.onData(handler);
  }

  onClose(handler: (reason: string) => void): void {
    this.link.onClose(handler);
  }

  /** Holds everything written from now on until `commit` settles (see the invariants). */
  holdUntil(commit: Promise<void>): boolean {
    // Closing or closed: nothing written from now on is sent anyway.
    if (this.closed || this.overflowed || this.ending) return true;
    if (this.lastCommit === commit && this.lastBarrier !== null && !this.lastBarrier.settled) {
      return true;
    }
    const barrier = new Barrier();
    (this.held ??= []).push(barrier);
    this.lastCommit = commit;
    this.lastBarrier = barrier;
    commit.then(
      () => {
        barrier.settled = true;
        this.flush();
      },
      () => {
        barrier.settled = barrier.failed = true;
        this.flush();
      },
    );
    return true;
  }

  write(data: Buffer): void {
    if (this.closed || this.overflowed || this.ending) return;
    if (this.held === null) {
      this.link.write(data);
      return;
    }
    // As the socket does: refused only when something already waits, so one reply
    // larger than the limit (a big history page) still goes to a reader that keeps up.
    const pending = this.heldBytes + this.link.pendingBytes();
    if (pending > 0 && pending + data.length > this.limit) {
      this.overflow();
      return;
    }
    this.held.push(data);
    this.heldBytes += data.length;
  }

  pendingBytes(): number {
    return this.heldBytes + this.link.pendingBytes();
  }

  limitSendQueue(bytes: number, onOverflow: () => void): void {
    this.limit = bytes;
    this.onOverflow = onOverflow;
    this.link.limitSendQueue(bytes, () => this.overflow());
  }

  whenDrained(cb: () => void): void {
    if (this.held === null) this.link.whenDrained(cb);
    else (this.drained ??= []).push(cb);
  }

  pause(): void {
    this.link.pause();
  }

  resume(): void {
    this.link.resume();
  }

  end(last?: Buffer | null, reason?: string): void {
    if (this.closed || this.ending) return;
    if (this.held === null) {
      this.closed = true;
      this.link.end(last, reason);
      return;
    }
    this.ending = { last, reason };
    this.link.pause();
    this.endTimer = setTimeout(() => this.finish(), END_WAIT_MS);
    this.endTimer.unref();
  }

  destroy(): void {
    this.drop();
    this.closed = true;
    this.link.destroy();
  }

  tick(now: number): void {
    this.link.tick?.(now);
  }

  /** Sends what no unsettled barrier holds any more. */
  private flush(): void {
    const held = this.held;
    if (held === null) return;
    let i = 0;
    for (; i < held.length; i++) {
      const item = held[i] as Held;
      if (item instanceof Barrier) {
        if (!item.settled) break;
        if (item.failed) {
          // Not committed, and never will be: what follows (its acknowledgement among
          // it) must not be sent. The connection cannot go on in order: close it.
          this.finish();
          return;
        }
        continue;
      }
      this.heldBytes -= item.length;
      this.link.write(item);
      // The write overflowed the socket and the owner closed us meanwhile.
      if (this.held !== held) return;
    }
    held.splice(0, i);
    if (held.length > 0) return;
    this.held = null;
    this.lastCommit = this.lastBarrier = null;
    const drained = this.drained;
    this.drained = null;
    if (drained) for (const cb of drained) this.link.whenDrained(cb);
    if (this.ending) this.finish();
  }

  /** Ends the link now, dropping whatever is still held (unacknowledged). */
  private finish(): void {
    if (this.closed) return;
    const ending = this.ending;
    this.drop();
    this.closed = true;
    this.link.end(ending?.last, ending?.reason);
  }

  private drop(): void {
    if (this.endTimer) clearTimeout(this.endTimer);
    this.endTimer = null;
    this.held = null;
    this.heldBytes = 0;
    this.lastCommit = this.lastBarrier = null;
    // The link calls them once it is drained or dead: a pacer waiting on one is freed.
    const drained = this.drained;
    this.drained = null;
    if (drained) for (const cb of drained) this.link.whenDrained(cb);
  }

  /** Past the send limit: nothing held is sent; the owner closes the connection (once). */
  private overflow(): void {
    this.overflowed = true;
    this.drop();
    const handler = this.onOverflow;
    this.onOverflow = null;
    handler?.();
  }
}
