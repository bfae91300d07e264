/**
 * TCP and TLS listeners. Node (libuv) sets SO_REUSEADDR on listening TCP sockets, so a
 * restart never fails with "address in use" while old connections sit in TIME_WAIT.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Link } from '../core/ports.js';
import { normalizeAddress, SocketLink } from './socket-link.js';

/** One shared no-op listener rather than a closure per socket. */
function ignore(): void {}

export interface TcpListenerOptions {
  /** Listener name, as it appears in the ready file (e.g. 'line', 'irc-tls'). */
  name: string;
  protocol: string;
  host: string;
  port: number;
  backlog: number;
  /** TCP keepalive: silence before the first probe (0: off); see keepaliveDelay. */
  keepaliveMs: number;
  tls?: { cert: Buffer; key: Buffer };
  /** Decide whether to take a new connection; a string is the reason for refusing it. */
  admit(address: string): string | null;
  /** Bytes sent to a refused connection before closing it (protocol-specific wording). */
  refusal(reason: string): Buffer;
  onLink(link: Link): void;
  onError(err: Error): void;
}

/**
 * The kernel fires keepalive timers that fall due close together (Linux's timer wheel
 * rounds a 60 s timer to ~2 s) all at once, and connections made together (a reconnect
 * storm after a restart, a benchmark's fill) fall due together. 19,500 probes sent in a
 * few bursts overflowed loopback's 1,000-packet backlog again at every 1 s retry, and
 * the kernel closed ~3,400 live connections as timed out. A delay drawn from
 * [base, 2×base) spreads the probes thin enough (about 1/30 of the connections per
 * burst at a 60 s base).
 */
export function keepaliveDelay(baseMs: number): number {
  return baseMs + Math.floor(Math.random() * baseMs);
}

export interface RunningListener {
  name: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function listenTcp(opts: TcpListenerOptions): Promise<RunningListener> {
  const accept = (socket: net.Socket): void => {
    socket.setNoDelay(true);
    if (opts.keepaliveMs > 0) socket.setKeepAlive(true, keepaliveDelay(opts.keepaliveMs));
    const refused = opts.admit(normalizeAddress(socket.remoteAddress));
    if (refused !== null) {
      socket.on('error', ignore);
      socket.end(opts.refusal(refused));
      socket.setTimeout(2000, () => socket.destroy());
      return;
    }
    opts.onLink(new SocketLink(socket, opts.protocol, opts.tls !== undefined));
  };
  const server = opts.tls
    ? tls.createServer({ cert: opts.tls.cert, key: opts.tls.key }, accept)
    : net.createServer(accept);
  server.on('error', opts.onError);
  if (opts.tls) {
    // A failed handshake costs only that connection.
    server.on('tlsClientError', () => {});
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port, backlog: opts.backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  return {
    name: opts.name,
    host: opts.host,
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
