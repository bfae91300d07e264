/**
 * The once-a-second sweep: one timer for every timeout instead of a timer per connection.
 * It walks only what needs it: sessions still choosing a name (registration timeout),
 * everyone only when a protocol wants a clock tick (IRC PING) or an idle timeout is set.
 * Walking 19,500 idle sessions every second kept V8 from seeing the process idle.
 */
import type { Accounts } from './accounts.js';
import type { Core } from './context.js';

/** Timeouts are checked to this precision. */
const SWEEP_MS = 1000;

export class Housekeeping {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly core: Core,
    private readonly accounts: Accounts,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass (tests call it with an injected clock). */
  sweep(): void {
    const { core } = this;
    const now = core.clock.now();
    core.fanout.flushDigests(now);
    this.accounts.sweep(now);
    const { registrationTimeoutMs, idleTimeoutMs } = core.options;
    if (registrationTimeoutMs > 0) {
      for (const s of core.sessions.choosing) {
        if (now - s.connectedAt > registrationTimeoutMs) {
          s.closeReason = 'registration timeout';
          core.disconnect(s, 'registration timeout');
        }
      }
    }
    if (core.sessions.tickers === 0 && idleTimeoutMs <= 0) return;
    // Deleting from a Map while iterating it is safe in JS: no copy of 19,500 sessions.
    for (const s of core.sessions) {
      s.conn.tick?.(now);
      if (s.closed || !s.registered) continue;
      if (idleTimeoutMs > 0 && now - s.lastActive > idleTimeoutMs) {
        core.disconnect(s, 'idle timeout');
      }
    }
  }
}
