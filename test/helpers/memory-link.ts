/**
 * An in-memory Connection for core unit tests: what the server writes is kept as text,
 * the send limit is enforced like a real link's (every byte counts; past the limit the
 * write is dropped and the overflow handler runs once), and a test decides how much the
 * "reader" has read (`stall` keeps bytes pending, `drain` reads them).
 */
import type { Connection } from '../../src/core/ports.js';

export class MemoryConnection implements Connection {
  readonly protocol: string;
  readonly secure = false;
  /** Everything written, in order. */
  readonly written: string[] = [];
  /** The last bytes sent by `end`, if any. */
  last: string | null = null;
  ended = false;
  destroyed = false;
  endReason: string | undefined;
  private pending = 0;
  private stalled = false;
  private limit = Number.POSITIVE_INFINITY;
  private onOverflow: ((owner: unknown) => void) | null = null;
  /** What `onOverflow` is called with (the session: one handler for every connection). */
  private overflowOwner: unknown = null;
  private drains: (() => void)[] = [];

  constructor(
    readonly remoteAddress = '127.0.0.1',
    protocol = 'memory',
  ) {
    this.protocol = protocol;
  }

  write(data: Buffer): void {
    if (this.ended || this.destroyed) return;
    if (this.pending > 0 && this.pending + data.length > this.limit) {
      const handler = this.onOverflow;
      this.onOverflow = null;
      handler?.(this.overflowOwner);
      return;
    }
    this.written.push(data.toString('utf8'));
    if (this.stalled) this.pending += data.length;
  }

  pendingBytes(): number {
    return this.pending;
  }

  limitSendQueue<T>(bytes: number, onOverflow: (owner: T) => void, owner: T): void {
    this.limit = bytes;
    this.onOverflow = onOverflow as (owner: unknown) => void;
    this.overflowOwner = owner;
  }

  whenDrained(cb: () => void): void {
    if (this.pending === 0) setImmediate(cb);
    else this.drains.push(cb);
  }

  /** The reader stops reading: what is written from now on stays pending. */
  stall(): void {
    this.stalled = true;
  }

  /** The reader reads everything. */
  drain(): void {
    this.stalled = false;
    this.pending = 0;
    for (const cb of this.drains.splice(0)) cb();
  }

  pause(): void {}
  resume(): void {}

  end(last?: Buffer | null, reason?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.last = last ? last.toString('utf8') : null;
    this.endReason = reason;
  }

  destroy(): void {
    this.destroyed = true;
  }

  /** All text received so far, as one string. */
  get text(): string {
    return this.written.join('');
  }
}

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public t = 1_800_000_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
