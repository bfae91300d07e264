/**
 * A warning that an attacker can cause once per connection (a refusal, an over-limit
 * socket) must not become a way to fill the disk: the first few in each window are
 * logged as they come, the rest are counted and summed up in one line when the next
 * window opens.
 */
import type { Logger } from '../core/ports.js';

export class LogThrottle {
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly log: Logger,
    private readonly message: string,
    private readonly perWindow = 10,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(fields: Record<string, unknown>): void {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      if (this.suppressed > 0) {
        this.log.warn({ suppressed: this.suppressed }, `${this.message} (more, not logged)`);
      }
      this.windowStart = now;
      this.inWindow = 0;
      this.suppressed = 0;
    }
    if (this.inWindow < this.perWindow) {
      this.inWindow++;
      this.log.warn(fields, this.message);
    } else {
      this.suppressed++;
    }
  }
}
