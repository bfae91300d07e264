/**
 * A net.Socket (or tls.TLSSocket) as a Link. Writes within one event-loop turn are
 * gathered in a small array and handed to the socket once per turn as one buffer: a burst
 * of fan-out costs one stream write and one syscall per socket instead of one per event.
 */
import { writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Link } from '../core/ports.js';
import { flushAtEndOfTurn } from './end-of-turn.js';

const LINK = Symbol('plugboard.link');
type LinkedSocket = Socket & { [LINK]?: SocketLink };

function onSocketError(this: LinkedSocket, err: NodeJS.ErrnoException): void {
  this[LINK]?.socketError(err);
}

function onSocketEnd(this: LinkedSocket): void {
  this[LINK]?.socketEnd();
}

function onSocketClose(this: LinkedSocket): void {
  this[LINK]?.socketClose();
}

/** Most peers share a few addresses: keep one copy of each string, not one per socket. */
const addresses = new Map<string, string>();

export function normalizeAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  let known = addresses.get(address);
  if (known === undefined) {
    known = address.startsWith('::ffff:') ? address.slice(7) : address;
    // Bounded: past this many distinct addresses, new ones are simply not shared.
    if (addresses.size < 65_536) addresses.set(address, known);
  }
  return known;
}

export class SocketLink implements Link {
  readonly remoteAddress: string;
  private ended = false;
  /** Buffers written this turn, not yet handed to the socket. */
  private turn: Buffer[] | null = null;
  private turnBytes = 0;
  private closeHandler: ((reason: string) => void) | null = null;
  private closeReason = 'connection closed';
  /** The socket's descriptor for direct writes, or -1 (TLS, or no descriptor). */
  private readonly fd: number;

  constructor(
    private readonly socket: Socket,
    readonly protocol: string,
    readonly secure: boolean,
  ) {
    this.remoteAddress = normalizeAddress(socket.remoteAddress);
    this.fd = secure ? -1 : descriptorOf(socket);
    // Listening for errors from the start: an error with no listener would throw. The
    // reason is kept for the close handler.
    (socket as LinkedSocket)[LINK] = this;
    socket.on('error', onSocketError);
  }

  write(data: Buffer): void {
    if (this.ended || this.socket.destroyed) return;
    if (this.turn === null) {
      this.turn = [data];
      flushAtEndOfTurn(this);
    } else {
      this.turn.push(data);
    }
    this.turnBytes += data.length;
  }

  flush(): void {
    const turn = this.turn;
    if (turn === null) return;
    this.turn = null;
    const size = this.turnBytes;
    this.turnBytes = 0;
    if (this.socket.destroyed) return;
    let data = turn.length === 1 ? (turn[0] as Buffer) : Buffer.concat(turn, size);
    if (this.fd >= 0 && this.socket.writableLength === 0) {
      const written = tryWrite(this.fd, data);
      if (written === data.length) return;
      if (written > 0) data = data.subarray(written);
    }
    this.socket.write(data);
  }

  /**
   * The backlog a slow reader has built up: what the kernel has not taken yet. What this
   * very turn wrote is not counted: a burst written in one turn is not the reader's fault.
   */
  pendingBytes(): number {
    return this.socket.writableLength;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    this.socket.end();
  }

  destroy(): void {
    this.ended = true;
    this.turn = null;
    this.socket.destroy();
  }

  onData(handler: (data: Buffer) => void): void {
    this.socket.on('data', handler);
  }

  onClose(handler: (reason: string) => void): void {
    this.closeHandler = handler;
    // Shared listeners that find this link through the socket: no closures per connection
    // (tens of thousands of links are alive at once).
    const socket = this.socket;
    socket.on('end', onSocketEnd);
    socket.on('close', onSocketClose);
  }

  /** Called by the shared listeners below. */
  socketError(err: NodeJS.ErrnoException): void {
    this.closeReason = err.code === 'ECONNRESET' ? 'connection reset by peer' : err.message;
  }

  socketEnd(): void {
    // The peer half-closed (nc after stdin EOF, or a client's QUIT): finish our side.
    if (!this.ended) this.end();
  }

  socketClose(): void {
    this.closeHandler?.(this.closeReason);
  }
}

/** The descriptor behind a plain TCP socket (libuv's handle exposes it on Unix), or -1. */
function descriptorOf(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: { fd?: unknown } })._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

/**
 * One write(2) straight to the socket, skipping the stream machinery. Only called while
 * the stream has nothing queued, so order is kept. Returns the bytes the kernel took;
 * 0 when it took none or failed (the stream write that follows reports real errors).
 */
function tryWrite(fd: number, data: Buffer): number {
  try {
    return writeSync(fd, data);
  } catch {
    return 0;
  }
}
