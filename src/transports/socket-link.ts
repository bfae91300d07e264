/**
 * A net.Socket (or tls.TLSSocket) as a Link. Writes within one event-loop turn are
 * coalesced: the socket is corked on the first write and uncorked once per turn, so a
 * burst of fan-out reaches the kernel as one writev instead of one syscall per event.
 */
import type { Socket } from 'node:net';
import type { Link } from '../core/ports.js';

const corked: SocketLink[] = [];
let flushScheduled = false;

function flushCorked(): void {
  flushScheduled = false;
  // Swap out the list first: uncorking can run callbacks that write again.
  const batch = corked.splice(0, corked.length);
  for (const link of batch) link.uncork();
}

export function normalizeAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export class SocketLink implements Link {
  readonly remoteAddress: string;
  private isCorked = false;
  private ended = false;
  /** Bytes written since the socket was corked this turn: not yet a backlog. */
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
    if (!this.isCorked) {
      this.isCorked = true;
      this.socket.cork();
      corked.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushCorked);
      }
    }
    this.turnBytes += data.length;
    this.socket.write(data);
  }

  uncork(): void {
    if (!this.isCorked) return;
    this.isCorked = false;
    this.turnBytes = 0;
    this.socket.uncork();
  }

  /**
   * The backlog a slow reader has built up: what the kernel has not taken, minus what
   * this very turn wrote (a burst written in one turn is not the reader's fault).
   */
  pendingBytes(): number {
    return this.socket.writableLength - this.turnBytes;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.uncork();
    this.socket.end();
  }

  destroy(): void {
    this.ended = true;
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
