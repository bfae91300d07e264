/**
 * What the transports count, gathered for /metrics and the admin `stats` (the hub's
 * counters are in core/counters.ts).
 */
import type { Admission } from '../core/admission.js';
import type { DescriptorStats } from './descriptors.js';
import type { Linger } from './linger.js';
import type { UdpEcho } from './udp.js';

export interface TransportStats {
  /** Chat connections (TCP listeners and WebSocket sessions), counted until each closes. */
  readonly chat: Admission;
  /** HTTP connections (not upgraded), or null with the HTTP listener off. */
  readonly http: Admission | null;
  readonly linger: Linger;
  readonly descriptors: DescriptorStats;
  /** Set once the echo is listening (after the HTTP listener), null while off. */
  udp: UdpEcho | null;
  /** Admin socket connections closed for an over-long line. */
  adminLinesTooLong(): number;
}

export function describeTransports(t: TransportStats): string[] {
  const limits = t.chat.limits;
  const d = t.descriptors;
  const lines = [
    `chat sockets ${t.chat.total} of ${limits.maxTotal} (${limits.maxPerAddress} per address), ` +
      `${t.chat.addresses} addresses; refused full ${t.chat.refusedFull}, per address ${t.chat.refusedPerAddress}`,
  ];
  if (t.http) {
    lines.push(
      `http sockets ${t.http.total} of ${t.http.limits.maxTotal} (${t.http.limits.maxPerAddress} per address); ` +
        `refused full ${t.http.refusedFull}, per address ${t.http.refusedPerAddress}`,
    );
  }
  lines.push(
    `closing: lingering refusals ${t.linger.refusing}, refused at once ${t.linger.refusedAtOnce}, ` +
      `destroyed after the ${t.linger.ms} ms linger ${t.linger.expired}; ` +
      `descriptors limit ${d.limit ?? 'unknown'}, ${d.exhausted ? 'EXHAUSTED' : 'ok'}, ` +
      `exhaustions ${d.exhaustions}, accept errors ${d.acceptErrors}`,
  );
  if (t.udp) {
    lines.push(
      `udp echoed ${t.udp.echoed}, dropped ${t.udp.dropped}; sources ${t.udp.sources}, ` +
        `overflowed ${t.udp.overflowed}, evicted ${t.udp.evicted}`,
    );
  }
  if (t.adminLinesTooLong() > 0) lines.push(`admin lines too long ${t.adminLinesTooLong()}`);
  return lines;
}
