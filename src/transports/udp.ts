/**
 * UDP datagram echo: each datagram (at most 64 KiB) goes back to its sender unchanged.
 * A per-source token bucket on datagrams and bytes keeps it from being used to amplify
 * or flood: excess datagrams are dropped (and counted), never queued.
 */
import dgram from 'node:dgram';
import { TokenBucket } from '../core/flood.js';
import type { Clock } from '../core/ports.js';
import type { RunningListener } from './tcp.js';

export interface UdpEchoOptions {
  host: string;
  port: number;
  /** Datagrams per second per source (burst: the same number). */
  packetsPerSecond: number;
  /** KiB per second per source (burst: the same number); a token per started KiB. */
  kibPerSecond: number;
  /** SO_RCVBUF / SO_SNDBUF in bytes; 0 keeps the kernel's default. */
  recvBufferSize: number;
  sendBufferSize: number;
  clock: Clock;
}

export interface UdpEcho extends RunningListener {
  echoed: number;
  dropped: number;
}

const MAX_DATAGRAM = 65_536;

export async function listenUdpEcho(o: UdpEchoOptions): Promise<UdpEcho> {
  const type = o.host.includes(':') ? 'udp6' : 'udp4';
  const socket = dgram.createSocket({ type, reuseAddr: true });
  const sources = new Map<string, { packets: TokenBucket; bytes: TokenBucket; seen: number }>();
  const stats = { echoed: 0, dropped: 0 };

  socket.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}|${rinfo.port}`;
    let src = sources.get(key);
    if (!src) {
      src = {
        packets: new TokenBucket(o.packetsPerSecond, o.packetsPerSecond, o.clock),
        bytes: new TokenBucket(o.kibPerSecond, o.kibPerSecond, o.clock),
        seen: 0,
      };
      sources.set(key, src);
    }
    src.seen = o.clock.now();
    // The byte bucket counts KiB (a token per started KiB) so one bucket covers both sizes.
    let ok = msg.length <= MAX_DATAGRAM && src.packets.take();
    for (let i = 0; ok && i < Math.ceil(msg.length / 1024); i++) ok = src.bytes.take();
    if (!ok) {
      stats.dropped++;
      return;
    }
    stats.echoed++;
    socket.send(msg, rinfo.port, rinfo.address);
  });
  socket.on('error', () => {}); // a bad peer (ICMP unreachable) must not stop the service

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(o.port, o.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  if (o.recvBufferSize > 0) socket.setRecvBufferSize(o.recvBufferSize);
  if (o.sendBufferSize > 0) socket.setSendBufferSize(o.sendBufferSize);

  // Forget quiet sources so the table stays bounded.
  const sweep = setInterval(() => {
    const cutoff = o.clock.now() - 60_000;
    for (const [k, s] of sources) if (s.seen < cutoff) sources.delete(k);
  }, 10_000);
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
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweep);
        socket.close(() => resolve());
      }),
  };
}
