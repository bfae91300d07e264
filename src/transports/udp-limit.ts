/**
 * Per-source limits for the UDP echo. Source addresses of datagrams can be forged, so an
 * echo service is a reflector: these limits bound what any one address (a possible victim)
 * can receive, in datagrams and in bytes, and bound the memory spent remembering sources.
 * Keyed by address, not address and port: a forger can pick any port.
 *
 * The table of sources is bounded (`maxSources`). When it is full, a new source takes the
 * place of the source charged longest ago if that one is idle (both its buckets full
 * again: a fresh entry would start exactly so, so forgetting it changes nothing for
 * anyone). Only when even that one is busy does the new source share one overflow entry
 * with every other source that has none, at the rate of a single source. So:
 *
 * - a flood of forged sources cannot lock new sources out, as a table that refused
 *   newcomers when full did (10,000 forged datagrams every sweep blocked everyone): to
 *   keep every entry busy, each of `maxSources` addresses would have to send near its
 *   full rate, all the time (10,000 × 100 datagrams/s by default);
 * - and it cannot turn the echo into an amplifier: every address is bounded by its own
 *   entry, or by the overflow entry's one-source budget, which all the sources without an
 *   entry share; no datagram comes back bigger than it came.
 */
import { TokenBucket } from '../core/flood.js';
import type { Clock } from '../core/ports.js';

export interface LimitOptions {
  /** Datagrams per second per source address; also the burst. */
  packetsPerSecond: number;
  /** Bytes per second per source address; the burst is this or one largest datagram. */
  bytesPerSecond: number;
  /** Most source addresses with an entry of their own at once. */
  maxSources: number;
  clock: Clock;
}

interface Source {
  packets: TokenBucket;
  bytes: TokenBucket;
}

export const MAX_DATAGRAM = 65_536;

export class SourceLimiter {
  /** In the order they were last charged, least recently first (Map keeps insertion order). */
  private readonly sources = new Map<string, Source>();
  /** Shared by every source that found the table full of busy sources. */
  private readonly overflow: Source;
  /** Idle entries given to a new source. */
  evicted = 0;
  /** Datagrams charged to the overflow entry (echoed or not). */
  overflowed = 0;

  constructor(private readonly o: LimitOptions) {
    this.overflow = this.fresh();
  }

  private fresh(): Source {
    const { packetsPerSecond: pps, bytesPerSecond: bps, clock } = this.o;
    return {
      packets: new TokenBucket(pps, pps, clock),
      bytes: new TokenBucket(Math.max(bps, MAX_DATAGRAM), bps, clock),
    };
  }

  /** True if a datagram of `size` bytes from `address` may be echoed (and charges it). */
  admit(address: string, size: number): boolean {
    if (size > MAX_DATAGRAM) return false;
    let src = this.sources.get(address);
    if (src) {
      // Most recently charged goes last.
      this.sources.delete(address);
      this.sources.set(address, src);
    } else {
      src = this.place(address);
    }
    // Both or neither: a datagram refused for its size must not use up a datagram token.
    if (src.packets.level() < 1 || src.bytes.level() < size) return false;
    src.packets.spend(1);
    src.bytes.spend(size);
    return true;
  }

  private place(address: string): Source {
    if (this.sources.size >= this.o.maxSources) {
      const oldest = this.sources.entries().next().value;
      if (oldest === undefined || !idle(oldest[1])) {
        this.overflowed++;
        return this.overflow;
      }
      this.sources.delete(oldest[0]);
      this.evicted++;
    }
    const src = this.fresh();
    this.sources.set(address, src);
    return src;
  }

  /** Forgets sources whose buckets are full again: they would start the same way anew. */
  sweep(): void {
    for (const [address, s] of this.sources) if (idle(s)) this.sources.delete(address);
  }

  get size(): number {
    return this.sources.size;
  }
}

function idle(s: Source): boolean {
  return s.packets.full && s.bytes.full;
}
