/**
 * Flood control: a token bucket per connection, in the spirit of IRC servers' fakelag
 * (a burst, then a steady rate). The clock is injected so tests are exact.
 */
import type { Clock } from './ports.js';

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly burst: number,
    /** Tokens per second; 0 disables the bucket (always allows). */
    private readonly rate: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  get enabled(): boolean {
    return this.rate > 0;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
  }

  /** Takes a token if one is available. */
  take(): boolean {
    if (this.rate <= 0) return true;
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Tokens available now, refilled for the time passed (for callers taking several). */
  level(): number {
    this.refill();
    return this.tokens;
  }

  /** Takes `n` tokens; callers check level() first (all or none is theirs to decide). */
  spend(n: number): void {
    this.tokens -= n;
  }

  /** Back at its burst: nothing taken recently (a limiter may forget it). */
  get full(): boolean {
    return this.level() >= this.burst;
  }

  /** Milliseconds until the next token is available (0 if one is). */
  waitMs(): number {
    if (this.rate <= 0) return 0;
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }
}
