/**
 * Retention: in the background, deletes history older than the configured age or beyond
 * the configured count per room. The server-wide limits come from --retention-days and
 * --retention-count; a room can have its own (admin `retention ROOM DAYS COUNT`), kept in
 * the store's settings. Both apply, so the stricter limit wins. Kept room events (event
 * playback, event-history.ts) go by the same limits, and each pass also trims every room's
 * to the newest `eventKeep` (--event-history). Other housekeeping of the store runs with
 * each pass (`also`: old reading positions, resume.ts).
 */
import type { Logger, Store } from './ports.js';

export interface RetentionLimits {
  maxAgeMs: number;
  maxCount: number;
}

const SETTING = 'retention';
const DAY = 86_400_000;

export class Retention {
  private timer: NodeJS.Timeout | null = null;
  private perRoom: Record<string, { days: number; count: number }> = {};
  /** Other housekeeping that runs with each pass (resume.ts: old reading positions). */
  private readonly extra: { name: string; run: () => Promise<number> }[] = [];

  constructor(
    private readonly store: Store,
    private readonly global: RetentionLimits,
    private readonly log: Logger,
    private readonly intervalMs = 10 * 60_000,
    private readonly eventKeep = 0,
  ) {}

  async start(): Promise<void> {
    const saved = await this.store.getSetting(SETTING);
    if (saved) this.perRoom = JSON.parse(saved) as typeof this.perRoom;
    this.timer = setInterval(() => void this.run(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Sets (or with days = count = 0, clears) a room's own limits. */
  setRoom(room: string, days: number, count: number): void {
    if (days === 0 && count === 0) delete this.perRoom[room];
    else this.perRoom[room] = { days, count };
    this.store.setSetting(SETTING, JSON.stringify(this.perRoom));
  }

  describe(): string[] {
    const g = this.global;
    const lines = [
      `server: ${g.maxAgeMs ? `${g.maxAgeMs / DAY} days` : 'any age'}, ${g.maxCount || 'any number of'} messages per room`,
    ];
    for (const [room, r] of Object.entries(this.perRoom)) {
      lines.push(
        `${room}: ${r.days ? `${r.days} days` : 'any age'}, ${r.count || 'any number of'} messages`,
      );
    }
    return lines;
  }

  /** Runs `run` with every pass; `name` says in the log what its count counts. */
  also(name: string, run: () => Promise<number>): void {
    this.extra.push({ name, run });
  }

  /** One pass; returns how many messages were deleted. */
  async run(): Promise<number> {
    for (const { name, run } of this.extra) {
      try {
        const removed = await run();
        if (removed > 0) this.log.info({ removed, what: name }, 'retention pruned');
      } catch (err) {
        this.log.error({ err, what: name }, 'retention failed');
      }
    }
    if (!this.store.prune) return 0;
    let removed = 0;
    try {
      if (this.global.maxAgeMs > 0 || this.global.maxCount > 0) {
        removed += await this.store.prune(this.global.maxAgeMs, this.global.maxCount);
      }
      for (const [room, r] of Object.entries(this.perRoom)) {
        removed += await this.store.prune(r.days * DAY, r.count, room);
      }
      const events =
        this.eventKeep > 0 && this.store.pruneEvents
          ? await this.store.pruneEvents(0, this.eventKeep)
          : 0;
      if (removed > 0 || events > 0) this.log.info({ removed, events }, 'retention pruned history');
    } catch (err) {
      this.log.error({ err }, 'retention failed');
    }
    return removed;
  }
}
