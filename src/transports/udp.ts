/**
 * UDP datagram echo (for `plugboard udp-ping`): each datagram, at most 64 KiB, goes back to
 * its sender unchanged. Echoing the same bytes means no amplification per datagram, and
 * per-source limits (udp-limit.ts) bound what one address can be sent in total, in a
 * bounded table that a flood of forged sources cannot lock; excess datagrams are dropped,
 * counted and reported in the log, never queued.
 */
import dgram from 'node:dgram';
import type { Clock, Logger } from '../core/ports.js';
import type { RunningListener } from './tcp.js';
import { SourceLimiter } from './udp-limit.js';

export interface UdpEchoOptions {
  host: string;
  port: number;
  /** Datagrams per second per source address (burst: the same number). */
  packetsPerSecond: number;
  /** Bytes per second per source address (burst: this, or one 64 KiB datagram if more). */
  bytesPerSecond: number;
  /**
   * Source addresses with limits of their own at once (default 10,000); past it, a new
   * source takes an idle one's place or shares one overflow budget (udp-limit.ts).
   */
  maxSources?: number;
  /** SO_RCVBUF / SO_SNDBUF in bytes; 0 keeps the kernel's default. */
  recvBufferSize: number;
  sendBufferSize: number;
  clock: Clock;
  log?: Logger;
}

export interface UdpEcho extends RunningListener {
  readonly echoed: number;
  readonly dropped: number;
  /** Source addresses with an entry of their own now. */
  readonly sources: number;
  /** Datagrams from sources that found the table full of busy ones (shared budget). */
  readonly overflowed: number;
  /** Idle entries handed to a new source. */
  readonly evicted: number;
}

const SWEEP_MS = 10_000;

export async function listenUdpEcho(o: UdpEchoOptions): Promise<UdpEcho> {
  const socket = dgram.createSocket({ type: o.host.includes(':') ? 'udp6' : 'udp4' });
  const limiter = new SourceLimiter({
    packetsPerSecond: o.packetsPerSecond,
    bytesPerSecond: o.bytesPerSecond,
    maxSources: o.maxSources ?? 10_000,
    clock: o.clock,
  });
  const stats = { echoed: 0, dropped: 0, droppedReported: 0 };

  socket.on('message', (msg, rinfo) => {
    if (!limiter.admit(rinfo.address, msg.length)) {
      stats.dropped++;
      return;
    }
    stats.echoed++;
    socket.send(msg, rinfo.port, rinfo.address);
  });
  // ICMP "port unreachable" from a peer that went away surfaces here; it must not stop the
  // service.
  socket.on('error', (err) => o.log?.debug({ err }, 'udp echo socket error'));

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(o.port, o.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  if (o.recvBufferSize > 0) socket.setRecvBufferSize(o.recvBufferSize);
  if (o.sendBufferSize > 0) socket.setSendBufferSize(o.sendBufferSize);

  const sweep = setInterval(() => {
    const fresh = stats.dropped - stats.droppedReported;
    if (fresh > 0) {
      o.log?.warn(
        { dropped: fresh, sources: limiter.size, overflowed: limiter.overflowed },
        'udp echo: over-limit datagrams dropped',
      );
      stats.droppedReported = stats.dropped;
    }
    limiter.sweep();
  }, SWEEP_MS);
  sweep.unref();

  return {
    name: 'udp',
    host: o.host,
    port: socket.address().port,
    get echoed() {
      return stats.echoed;
    },
    get dropped() {
      return stats.dropped;
    },
    get sources() {
      return limiter.size;
    },
    get overflowed() {
      return limiter.overflowed;
    },
    get evicted() {
      return limiter.evicted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweep);
        socket.close(() => resolve());
      }),
  };
}
