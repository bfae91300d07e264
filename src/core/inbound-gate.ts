/**
 * Applies flood control to a connection's decoded input. Lines within the bucket run at
 * once; excess lines wait (reading from the socket is paused meanwhile, so TCP pushes
 * back on the sender) and, past a small queue, are dropped with a notice to the sender.
 */
import { TokenBucket } from './flood.js';

export interface GateHooks<T> {
  run(item: T): void;
  pause(): void;
  resume(): void;
  /** Told once per flood episode (delayed) and for every dropped item. */
  onFlood(kind: 'delayed' | 'dropped', item: T): void;
}

export class InboundGate<T> {
  /** Items held back by flood control; null when none (most connections, most of the time). */
  private waiting: T[] | null = null;
  private timer: NodeJS.Timeout | null = null;
  private warned = false;
  private closed = false;

  constructor(
    private readonly bucket: TokenBucket,
    private readonly maxWaiting: number,
    private readonly hooks: GateHooks<T>,
  ) {}

  push(item: T): void {
    if (this.closed) return;
    if ((this.waiting === null || this.waiting.length === 0) && this.bucket.take()) {
      this.hooks.run(item);
      return;
    }
    const waiting = (this.waiting ??= []);
    if (waiting.length >= this.maxWaiting) {
      this.hooks.onFlood('dropped', item);
      return;
    }
    waiting.push(item);
    if (!this.warned) {
      this.warned = true;
      this.hooks.onFlood('delayed', item);
    }
    this.hooks.pause();
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drain();
    }, this.bucket.waitMs());
  }

  private drain(): void {
    const waiting = this.waiting ?? [];
    while (!this.closed && waiting.length > 0 && this.bucket.take()) {
      this.hooks.run(waiting.shift() as T);
    }
    if (this.closed) return;
    if (waiting.length > 0) {
      this.schedule();
    } else {
      this.waiting = null;
      this.warned = false;
      this.hooks.resume();
    }
  }

  close(): void {
    this.closed = true;
    this.waiting = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
