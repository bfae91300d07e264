/**
 * How long this process's event loop spent stalled: a ticker every `tickMs` adds up how
 * late each tick ran (a turn of the loop that took 300 ms makes a tick 250 ms late). A
 * check that something answered in time uses it to tell "the answer did not come" from
 * "this process was not running to read it" (a CPU-starved worker, a long synchronous
 * job): the time the loop was stalled was no time to read anything.
 */
export class LoopStall {
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private stalled = 0;

  constructor(private readonly tickMs = 50) {}

  start(): void {
    if (this.timer) return;
    this.last = performance.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Milliseconds stalled since the last call (counting up to now), and starts afresh. */
  take(): number {
    this.tick();
    const out = this.stalled;
    this.stalled = 0;
    return out;
  }

  private tick(): void {
    const now = performance.now();
    // Not late by up to one tick: the tick that is due now has not run yet.
    this.stalled += Math.max(0, now - this.last - this.tickMs);
    this.last = now;
  }
}
