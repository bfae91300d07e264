/**
 * Closing a socket from the server's side without leaking its descriptor.
 *
 * `socket.end()` sends what is queued and then a FIN, but only half-closes: Node frees the
 * descriptor once the peer has closed its side too. A peer that never does (an attacker,
 * or a client that waits for its user) kept every such socket, and its descriptor,
 * forever. So every server-side close here ends the socket and starts a real timer: if
 * the socket is still open after the linger, it is destroyed. A real timer, not
 * `socket.setTimeout()`: that is an idle timeout, and the peer's own traffic (or a
 * trickle of it) would keep resetting it.
 *
 * The linger is short because all it is for is letting the last bytes (a refusal, an IRC
 * ERROR, a close frame) reach a peer that reads them; a peer that reads closes at once.
 */
import type { Duplex } from 'node:stream';

/** How long a server-closed socket may wait for its peer to close before it is destroyed. */
export const CLOSE_LINGER_MS = 2000;

/**
 * Refused connections (full, per-address limit, banned) that may linger at once to read
 * their refusal; past this, a refusal is written and the socket destroyed at once. A
 * refused socket holds a descriptor while it lingers, and the refusals must not be what
 * runs the process out of them (they are part of the reserve, see descriptors.ts).
 */
export const MAX_LINGERING_REFUSALS = 64;

const TIMER = Symbol('plugboard.linger');
type Lingering = Duplex & { [TIMER]?: NodeJS.Timeout | null };

function expire(socket: Lingering, linger: Linger): void {
  socket[TIMER] = null;
  if (socket.destroyed) return;
  linger.expired++;
  socket.destroy();
}

function disarm(this: Lingering): void {
  const timer = this[TIMER];
  if (timer) clearTimeout(timer);
  this[TIMER] = null;
}

export class Linger {
  /** Sockets destroyed because the peer had not closed within the linger. */
  expired = 0;
  /** Refused sockets lingering now. */
  refusing = 0;
  /** Refusals written and destroyed at once because too many were lingering. */
  refusedAtOnce = 0;

  constructor(
    readonly ms: number = CLOSE_LINGER_MS,
    readonly maxRefusing: number = MAX_LINGERING_REFUSALS,
  ) {}

  /**
   * Destroys the socket after the linger unless it has closed by then. Idempotent: the
   * first call's deadline stands (a peer cannot extend it by making us close again).
   */
  arm(socket: Duplex): void {
    const s = socket as Lingering;
    if (s.destroyed || s[TIMER] !== undefined) return;
    const timer = setTimeout(expire, this.ms, s, this);
    timer.unref();
    s[TIMER] = timer;
    s.once('close', disarm);
  }

  /** Sends `data` (if any) and what is queued, half-closes, and arms the linger. */
  end(socket: Duplex, data?: string | Buffer): void {
    if (socket.destroyed) return;
    if (data === undefined) socket.end();
    else socket.end(data);
    this.arm(socket);
  }

  /**
   * Starts a refusal: true when the socket may linger to read why (it is counted among
   * the refusals until it closes, and destroyed after the linger), false when too many
   * refusals are lingering already and the caller must destroy it now.
   */
  beginRefusal(socket: Duplex): boolean {
    socket.on('error', ignore);
    if (socket.destroyed) return false; // its 'close' may have passed: nothing to count
    if (this.refusing >= this.maxRefusing) {
      this.refusedAtOnce++;
      return false;
    }
    this.refusing++;
    socket.once('close', () => this.refusing--);
    this.arm(socket);
    return true;
  }

  /**
   * A connection refused before anything else ran on it: tells it why and closes it.
   * While too many refusals are lingering already, the words are handed to the kernel
   * and the socket is destroyed at once (close(2) still sends them, unless the peer had
   * sent something first, when the kernel answers with a reset instead).
   */
  refuse(socket: Duplex, data?: string | Buffer): void {
    if (this.beginRefusal(socket)) {
      this.end(socket, data);
      return;
    }
    if (data !== undefined && !socket.destroyed) socket.write(data);
    socket.destroy();
  }
}

function ignore(): void {}
