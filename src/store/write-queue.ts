/**
 * The bounded write queue between fan-out and the disk. Writes are grouped in chunks of at
 * most `maxBatch`; a chunk is written every `intervalMs`, or at once when it is full (with
 * a synchronous writer, SQLite, in the pusher's own turn: that is the back-pressure).
 *
 * Invariants:
 * 1. Order: only the oldest chunk is ever being written, one at a time; a chunk being
 *    written is sealed (nothing joins it), so a retry writes exactly the same items.
 * 2. Nothing is dropped: a chunk whose write fails stays at the head and is retried. Only
 *    stop() gives up, after one last attempt, and then rejects what is left.
 * 3. A failing writer is not hammered: while writes fail, neither pushes nor the interval
 *    write anything; one retry timer does, after `retryBaseMs` doubling up to `retryMaxMs`,
 *    each delay jittered by ±25% so a fleet of servers does not retry in step.
 * 4. Exact completion: push() returns the promise of the item's chunk, which resolves
 *    right after the write that holds it returned (committed), never before.
 * 5. Bounded: `full` turns true at `maxPending` items so the caller can refuse more.
 * 6. One bad item costs only itself: when a write fails for the content of an item (the
 *    `isPermanent` hook says so: a constraint, a value the database cannot hold), the
 *    chunk is written again item by item; the items the database still refuses are handed
 *    to `onRejected` and left out, so they cannot block every later write for good.
 */

export interface WriteQueueOptions {
  intervalMs: number;
  maxBatch: number;
  maxPending: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export const defaultWriteQueueOptions: WriteQueueOptions = {
  intervalMs: 50,
  maxBatch: 500,
  maxPending: 50_000,
  retryBaseMs: 100,
  retryMaxMs: 5000,
};

/** What the queue tells its owner; every hook is optional. */
export interface WriteQueueHooks<T> {
  /** The first failed write of an episode (later retries that fail are only counted). */
  onFailing?(err: unknown): void;
  /** A write succeeded after `attempts` failed ones over `sinceMs`. */
  onRecovered?(attempts: number, sinceMs: number): void;
  /** stop() could not write `count` items; their promises are rejected. */
  onAbandoned?(count: number, err: unknown): void;
  /** True when `err` is caused by an item's content, not by the disk or the database. */
  isPermanent?(err: unknown): boolean;
  /** An item the database refuses for its content (see invariant 6): left out. */
  onRejected?(item: T, err: unknown): void;
  /** Jitter source in [0, 1); Math.random by default. */
  random?(): number;
}

class Chunk<T> {
  readonly items: T[] = [];
  /** Being (or was) written: nothing may join it any more. */
  sealed = false;
  done = false;
  readonly promise: Promise<void>;
  resolve!: () => void;
  reject!: (err: Error) => void;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Callers may ignore the promise (fire-and-forget writes): a rejection at close must
    // not become an unhandled rejection. Those who await it still see it.
    this.promise.catch(() => {});
  }
}

const yieldTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

export class WriteQueue<T> {
  private readonly chunks: Chunk<T>[] = [];
  private count = 0;
  private timer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** The drain still running past its first turn (an asynchronous write, a backlog). */
  private draining: Promise<void> | null = null;
  private failingSince: number | null = null;
  private attempts = 0;
  private stopping = false;
  private stopped = false;
  private lastError: unknown = null;
  readonly options: WriteQueueOptions;
  /** Items written so far. */
  written = 0;
  /** Writes that landed so far (one transaction each; a chunk written item by item counts once). */
  commits = 0;
  /** Failed write attempts so far (each retry counts). */
  failed = 0;

  constructor(
    private readonly write: (batch: T[]) => void | Promise<void>,
    options: Partial<WriteQueueOptions> = {},
    private readonly hooks: WriteQueueHooks<T> = {},
  ) {
    this.options = { ...defaultWriteQueueOptions, ...options };
  }

  /** Items waiting to be written. */
  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.options.maxPending;
  }

  /** True from a failed write until the next successful one. */
  get failing(): boolean {
    return this.failingSince !== null;
  }

  /** Everything waiting, oldest first (to answer reads while writes fail). */
  *pending(): Iterable<T> {
    for (const c of this.chunks) yield* c.items;
  }

  start(): void {
    this.timer = setInterval(() => {
      if (!this.failing && this.chunks.length > 0) void this.drain();
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** Queues an item; the promise resolves once it is written (see invariant 4). */
  push(item: T): Promise<void> {
    if (this.stopped) {
      const closed = Promise.reject(new Error('the store is closed; nothing more is written'));
      closed.catch(() => {});
      return closed;
    }
    let tail = this.chunks[this.chunks.length - 1];
    if (!tail || tail.sealed || tail.items.length >= this.options.maxBatch) {
      tail = new Chunk<T>();
      this.chunks.push(tail);
    }
    tail.items.push(item);
    this.count++;
    // A full chunk goes now, unless a write is failing (the retry timer owns that) or a
    // drain is running (it continues with this one).
    if (tail.items.length >= this.options.maxBatch && !this.failing) void this.drain();
    return tail.promise;
  }

  /**
   * Writes what is waiting now. Resolves once it is written, or as soon as a write fails:
   * a failing queue is not forced (the retry timer keeps its pace), so callers that read
   * must also look at pending().
   */
  async flush(): Promise<void> {
    const target = this.chunks[this.chunks.length - 1];
    while (target && !target.done && !this.failing && !this.stopped) await this.drain();
  }

  /** Stops the timers after writing everything still queued (one last try if failing). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.timer = this.retryTimer = null;
    if (this.draining) await this.draining;
    if (this.chunks.length > 0) await this.drain();
    this.stopped = true;
    if (this.count > 0) {
      const err = new Error(
        `the store closed before ${this.count} queued writes could be made: ${describe(this.lastError)}`,
      );
      this.hooks.onAbandoned?.(this.count, this.lastError);
      for (const c of this.chunks.splice(0)) c.reject(err);
      this.count = 0;
    }
  }

  /**
   * Writes chunks oldest first until none is left or a write fails, one at a time. The
   * first write starts in the caller's turn (a synchronous writer finishes it there: the
   * back-pressure); any further chunk (a backlog after a recovery) waits a turn each, so a
   * long backlog does not hold the event loop.
   */
  private drain(): Promise<void> | undefined {
    if (this.draining) return this.draining;
    if (this.chunks.length === 0) return undefined;
    const first = this.writeHead();
    if (first === false || (first === true && this.chunks.length === 0)) return undefined;
    this.draining = this.continueDrain(first).finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  private async continueDrain(first: true | Promise<boolean>): Promise<void> {
    if (first !== true && !(await first)) return;
    while (this.chunks.length > 0) {
      await yieldTurn();
      const result = this.writeHead();
      if (!(typeof result === 'boolean' ? result : await result)) return;
    }
  }

  private writeHead(): boolean | Promise<boolean> {
    const chunk = this.chunks[0] as Chunk<T>;
    chunk.sealed = true;
    let result: void | Promise<void>;
    try {
      result = this.write(chunk.items);
    } catch (err) {
      return this.failedChunk(chunk, err);
    }
    if (!(result instanceof Promise)) return this.landed(chunk);
    return result.then(
      () => this.landed(chunk),
      (err: unknown) => this.failedChunk(chunk, err),
    );
  }

  private failedChunk(chunk: Chunk<T>, err: unknown): boolean | Promise<boolean> {
    if (this.hooks.isPermanent?.(err)) return this.oneByOne(chunk);
    return this.failedWrite(err);
  }

  /**
   * Writes a chunk an item at a time (invariant 6). An item refused for its content is
   * rejected; any other failure stops here, and the retry takes up the items left.
   */
  private async oneByOne(chunk: Chunk<T>): Promise<boolean> {
    while (chunk.items.length > 0) {
      const item = chunk.items[0] as T;
      try {
        await this.write([item]);
        this.written++;
      } catch (err) {
        if (!this.hooks.isPermanent?.(err)) return this.failedWrite(err);
        this.failed++;
        this.hooks.onRejected?.(item, err);
      }
      chunk.items.shift();
      this.count--;
    }
    return this.landed(chunk);
  }

  private landed(chunk: Chunk<T>): true {
    this.commits++;
    this.chunks.shift();
    this.count -= chunk.items.length;
    this.written += chunk.items.length;
    chunk.done = true;
    chunk.resolve();
    if (this.failingSince !== null) {
      const since = Date.now() - this.failingSince;
      const attempts = this.attempts;
      this.failingSince = null;
      this.attempts = 0;
      this.hooks.onRecovered?.(attempts, since);
    }
    return true;
  }

  private failedWrite(err: unknown): false {
    this.failed++;
    this.attempts++;
    this.lastError = err;
    if (this.failingSince === null) {
      this.failingSince = Date.now();
      this.hooks.onFailing?.(err);
    }
    if (!this.stopping) {
      const delay = this.retryDelay(this.attempts);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        void this.drain();
      }, delay);
      this.retryTimer.unref();
    }
    return false;
  }

  /** The wait before retry number `attempt` (1-based): base · 2^(attempt-1), capped, ±25%. */
  retryDelay(attempt: number): number {
    const { retryBaseMs, retryMaxMs } = this.options;
    const plain = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(attempt - 1, 30));
    const random = this.hooks.random ?? Math.random;
    return Math.round(plain * (0.75 + 0.5 * random()));
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
