/**
 * A net.Socket (or tls.TLSSocket) as a Link. Writes within one event-loop turn are
 * gathered in a small array and handed to the socket once per turn as one buffer: a burst
 * of fan-out costs one stream write and one syscall per socket instead of one per event.
 */
import type { Socket } from 'node:net';
import type { Link } from '../core/ports.js';

const dirty: SocketLink[] = [];
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  // Take the list first: flushing can run callbacks that write again.
  const batch = dirty.splice(0, dirty.length);
  for (const link of batch) link.flush();
}

export function normalizeAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export class SocketLink implements Link {
  readonly remoteAddress: string;
  private ended = false;
  /** Buffers written this turn, not yet handed to the socket. */
  private turn: Buffer[] | null = null;
  private turnBytes = 0;

  constructor(
    private readonly socket: Socket,
    readonly protocol: string,
    readonly secure: boolean,
  ) {
    this.remoteAddress = normalizeAddress(socket.remoteAddress);
  }

  write(data: Buffer): void {
    if (this.ended || this.socket.destroyed) return;
    if (this.turn === null) {
      this.turn = [data];
      dirty.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushAll);
      }
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
    this.socket.write(turn.length === 1 ? (turn[0] as Buffer) : Buffer.concat(turn, size));
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
    let reason = 'connection closed';
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      reason = err.code === 'ECONNRESET' ? 'connection reset by peer' : err.message;
    });
    this.socket.on('end', () => {
      // The peer half-closed (nc after stdin EOF, or a client's QUIT): finish our side.
      if (!this.ended) this.end();
    });
    this.socket.on('close', () => handler(reason));
  }
}
