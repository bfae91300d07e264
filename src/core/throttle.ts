/**
 * Limits on what costs the server dearly or guesses a secret: login and OPER attempts per
 * address (a token bucket each, so a password cannot be guessed at 100 a second), and the
 * scrypt work of registering and identifying (a few at a time for the whole server, so
 * 300 connections registering at once cannot keep a core busy).
 */
import { ChatError, ErrorCode } from './errors.js';
import { TokenBucket } from './flood.js';
import type { Clock } from './ports.js';

/** Per-key token buckets, bounded in number: idle (full) buckets are forgotten first. */
export class Throttle {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly burst: number,
    private readonly perMinute: number,
    private readonly clock: Clock,
    private readonly maxKeys = 10_000,
  ) {}

  /** Takes one attempt for `key`, or throws a `flood` ChatError saying what to do. */
  take(key: string, what: string): void {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.forgetIdle();
      bucket = new TokenBucket(this.burst, this.perMinute / 60, this.clock);
      this.buckets.set(key, bucket);
    }
    if (!bucket.take()) {
      throw new ChatError(ErrorCode.Flood, `Too many ${what}: wait a minute and try again`);
    }
  }

  private forgetIdle(): void {
    for (const [key, b] of this.buckets) if (b.full) this.buckets.delete(key);
    // Still full of busy keys: drop the oldest rather than grow without bound.
    while (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next().value as string;
      this.buckets.delete(oldest);
    }
  }
}

/** At most `limit` tasks at once; the rest wait their turn, in order, up to `maxWaiting`. */
export class Semaphore {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly maxWaiting: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new ChatError(ErrorCode.Flood, 'The server is busy; try again in a moment');
      }
      // The finishing task hands its slot straight to us (running stays the same).
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
