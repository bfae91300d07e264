/**
 * The bounded write queue between fan-out and the disk. Messages are written in batches:
 * every `intervalMs`, or at once when `maxBatch` are waiting. With a synchronous writer
 * (SQLite) a full batch is written in the sender's own turn: that is the back-pressure,
 * and nothing is ever dropped. With an asynchronous writer (PostgreSQL) one batch is in
 * flight at a time; while it is, new messages wait, and `full` turns true past
 * `maxPending` so the hub can refuse new messages ("try again") instead of losing any.
 */

export interface WriteQueueOptions {
  intervalMs: number;
  maxBatch: number;
  maxPending: number;
}

export const defaultWriteQueueOptions: WriteQueueOptions = {
  intervalMs: 50,
  maxBatch: 500,
  maxPending: 50_000,
};

export class WriteQueue<T> {
  private items: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The batch being written; resolves to whether it landed. */
  private inFlight: Promise<boolean> | null = null;
  readonly options: WriteQueueOptions;
  /** Items written so far (for throughput figures). */
  written = 0;

  constructor(
    private readonly write: (batch: T[]) => void | Promise<void>,
    options: Partial<WriteQueueOptions> = {},
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.options = { ...defaultWriteQueueOptions, ...options };
  }

  get size(): number {
    return this.items.length;
  }

  get full(): boolean {
    return this.items.length >= this.options.maxPending;
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.intervalMs);
    this.timer.unref();
  }

  push(item: T): void {
    this.items.push(item);
    // While a batch is in flight, its completion starts the next one (see flush).
    if (this.items.length >= this.options.maxBatch && !this.inFlight) void this.flush();
  }

  /**
   * Writes what is waiting, `maxBatch` at a time (PostgreSQL caps parameters per statement).
   * Resolves when everything queued before the call is written.
   */
  flush(): Promise<void> | void {
    if (this.inFlight) {
      // One batch at a time keeps order; continue once the current one lands.
      return this.inFlight.then((ok) => (ok ? this.flush() : undefined));
    }
    if (this.items.length === 0) return;
    const batch = this.items.splice(0, this.options.maxBatch);
    let result: void | Promise<void>;
    try {
      result = this.write(batch);
    } catch (err) {
      // Keep the batch: it is retried on the next flush, never silently dropped.
      this.items = batch.concat(this.items);
      this.onError(err);
      return;
    }
    if (result instanceof Promise) {
      this.inFlight = result.then(
        () => {
          this.written += batch.length;
          this.inFlight = null;
          if (this.items.length >= this.options.maxBatch) void this.flush();
          return true;
        },
        (err: unknown) => {
          // Keep the batch for the next timer tick; do not spin against a failing database.
          this.items = batch.concat(this.items);
          this.inFlight = null;
          this.onError(err);
          return false;
        },
      );
      return this.inFlight.then((ok) => (ok ? this.flush() : undefined));
    }
    this.written += batch.length;
    return this.flush();
  }

  /** Stops the timer after writing everything still queued. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
