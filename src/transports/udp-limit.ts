/**
 * Per-source limits for the UDP echo. Source addresses of datagrams can be forged, so an
 * echo service is a reflector: these limits bound what any one address (a possible victim)
 * can receive, in datagrams and in bytes, and bound the memory spent remembering sources.
 * Keyed by address, not address and port: a forger can pick any port.
 */
import { TokenBucket } from '../core/flood.js';
import type { Clock } from '../core/ports.js';

export interface LimitOptions {
  /** Datagrams per second per source address; also the burst. */
  packetsPerSecond: number;
  /** Bytes per second per source address; the burst is this or one largest datagram. */
  bytesPerSecond: number;
  /** Most source addresses remembered at once; past it, new sources are refused. */
  maxSources: number;
  clock: Clock;
}

interface Source {
  packets: TokenBucket;
  bytes: TokenBucket;
}

export const MAX_DATAGRAM = 65_536;

export class SourceLimiter {
  private readonly sources = new Map<string, Source>();

  constructor(private readonly o: LimitOptions) {}

  /** True if a datagram of `size` bytes from `address` may be echoed (and charges it). */
  admit(address: string, size: number): boolean {
    if (size > MAX_DATAGRAM) return false;
    let src = this.sources.get(address);
    if (!src) {
      if (this.sources.size >= this.o.maxSources) return false;
      const { packetsPerSecond: pps, bytesPerSecond: bps, clock } = this.o;
      src = {
        packets: new TokenBucket(pps, pps, clock),
        bytes: new TokenBucket(Math.max(bps, MAX_DATAGRAM), bps, clock),
      };
      this.sources.set(address, src);
    }
    // Both or neither: a datagram refused for its size must not use up a datagram token.
    if (src.packets.level() < 1 || src.bytes.level() < size) return false;
    src.packets.spend(1);
    src.bytes.spend(size);
    return true;
  }

  /** Forgets sources whose buckets are full again: they would start the same way anew. */
  sweep(): void {
    for (const [address, s] of this.sources)
      if (s.packets.full && s.bytes.full) this.sources.delete(address);
  }

  get size(): number {
    return this.sources.size;
  }
}
