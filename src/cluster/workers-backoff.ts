/**
 * How long to wait before restarting a worker that died. The first restart is quick (its
 * share of the clients is reconnecting now); a worker that keeps dying waits twice as long
 * each time, up to a ceiling, so a crash at start (a bad disk, a broken store) does not
 * spin the host. A worker that ran for a while before dying starts the count again.
 */
export interface BackoffOptions {
  firstMs: number;
  maxMs: number;
  /** A worker that ran at least this long was healthy: its next crash counts as the first. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { firstMs: 200, maxMs: 30_000, stableMs: 30_000 };

export class RestartBackoff {
  private crashes = 0;

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {}

  /** The wait before restarting a worker that ran for `ranMs` and died. */
  next(ranMs: number): number {
    if (ranMs >= this.options.stableMs) this.crashes = 0;
    this.crashes++;
    // 2^n grows past maxMs long before it overflows: cap the exponent anyway.
    const factor = 2 ** Math.min(this.crashes - 1, 30);
    return Math.min(this.options.maxMs, this.options.firstMs * factor);
  }

  /** Crashes in a row so far. */
  get count(): number {
    return this.crashes;
  }
}
