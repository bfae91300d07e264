/**
 * TCP and TLS listeners. Node (libuv) sets SO_REUSEADDR on listening TCP sockets, so a
 * restart never fails with "address in use" while old connections sit in TIME_WAIT.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Link } from '../core/ports.js';
import type { Linger } from './linger.js';
import { linkKind, normalizeAddress, SocketLink } from './socket-link.js';

/**
 * A TLS handshake must finish within this (Node's default is 120 s): until it has, the
 * socket holds a descriptor and an admission slot while serving nobody.
 */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Where an admitted socket keeps the address it is counted under, and why it was refused. */
const ADDRESS = Symbol('plugboard.admitted');
const REFUSED = Symbol('plugboard.refused');
type Accepted = net.Socket & { [ADDRESS]?: string; [REFUSED]?: string };

/** Who may connect: counts a socket when admitting it, until release() on its 'close'. */
export interface ConnectionGate {
  /** Null (admitted and counted) or the reason for refusing it. */
  admit(address: string): string | null;
  /** The admitted socket's descriptor is closed. */
  release(address: string): void;
}

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
  gate: ConnectionGate;
  /** Closes server-closed and refused sockets whose peer does not close (linger.ts). */
  linger: Linger;
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
  const { gate, linger } = opts;
  // Shared by every socket of this listener: no closure per connection.
  function releaseOnClose(this: Accepted): void {
    const address = this[ADDRESS];
    if (address !== undefined) gate.release(address);
  }
  /** Plain TCP: the link knows the address it was admitted under (the same normalized string). */
  function releaseLink(link: SocketLink): void {
    gate.release(link.remoteAddress);
  }
  const plainKind = linkKind(opts.protocol, false, linger, releaseLink);
  const tlsKind = linkKind(opts.protocol, true, linger);

  /**
   * Admission on the raw socket, as soon as it is accepted: the descriptor is held from
   * now on (for TLS, through the handshake), so it is counted from now on, until 'close'.
   */
  const onConnection = (socket: Accepted): void => {
    socket.setNoDelay(true);
    if (opts.keepaliveMs > 0) socket.setKeepAlive(true, keepaliveDelay(opts.keepaliveMs));
    const address = normalizeAddress(socket.remoteAddress);
    const refused = gate.admit(address);
    if (refused === null) {
      // Plain TCP: the link's own 'close' listener releases it (one listener, not two).
      if (!opts.tls) {
        opts.onLink(new SocketLink(socket, plainKind));
      } else {
        socket[ADDRESS] = address;
        socket.on('close', releaseOnClose);
      }
      return;
    }
    if (!opts.tls) {
      linger.refuse(socket, opts.refusal(refused));
      return;
    }
    // TLS: the refusal can only be read once the handshake is done; the linger, armed
    // now, bounds handshake and refusal together.
    if (linger.beginRefusal(socket)) socket[REFUSED] = refused;
    else socket.destroy();
  };

  const onSecure = (secure: tls.TLSSocket): void => {
    const raw = (secure as tls.TLSSocket & { _parent?: Accepted })._parent;
    const refused = raw?.[REFUSED];
    if (refused !== undefined) {
      secure.on('error', () => {});
      linger.end(secure, opts.refusal(refused));
      return;
    }
    opts.onLink(new SocketLink(secure, tlsKind));
  };

  const server = opts.tls
    ? tls.createServer(
        { cert: opts.tls.cert, key: opts.tls.key, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS },
        onSecure,
      )
    : net.createServer();
  server.on('connection', onConnection);
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
