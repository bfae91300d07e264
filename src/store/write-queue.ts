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
  private inFlight: Promise<void> | null = null;
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
    if (this.items.length >= this.options.maxBatch) void this.flush();
  }

  /** Writes what is waiting. Resolves when everything queued before the call is written. */
  flush(): Promise<void> | void {
    if (this.inFlight) {
      // One batch at a time keeps order; the next flush picks up the rest.
      return this.inFlight.then(() => this.flush());
    }
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
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
        },
        (err: unknown) => {
          this.items = batch.concat(this.items);
          this.inFlight = null;
          this.onError(err);
        },
      );
      return this.inFlight;
    }
    this.written += batch.length;
  }

  /** Stops the timer after writing everything still queued. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
    while (this.inFlight) await this.inFlight;
    if (this.items.length > 0) await this.flush();
  }
}
