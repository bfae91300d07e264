/**
 * A WebSocket (the `ws` library) as a Link: one WebSocket text message in, one out.
 *
 * Writes within one event-loop turn are held back and sent together with the TCP socket
 * corked, so a burst of fan-out becomes one writev per connection rather than one syscall
 * per frame (the same batching as socket-link.ts; messages stay separate frames).
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { NO_SEND_LIMIT, type Link } from '../core/ports.js';
import { truncateUtf8 } from '../core/text.js';
import { flushAtEndOfTurn } from './end-of-turn.js';
import type { Linger } from './linger.js';
import { gatherLimit } from './socket-link.js';

/** A close frame's reason is at most 123 bytes (RFC 6455 §5.5); ws throws past that. */
function closeReason(text: string): string {
  return truncateUtf8(text, 120);
}

/** RFC 6455 §7.4.1 close codes → the reason the hub logs and tells the room. */
function describeClose(code: number): string {
  switch (code) {
    case 1000:
    case 1001:
    case 1005:
      return 'connection closed';
    case 1006:
      return 'connection lost';
    case 1007:
      return 'invalid UTF-8';
    case 1009:
      return 'message too large';
    default:
      return `connection closed (code ${code})`;
  }
}

export class WsLink implements Link {
  readonly protocol = 'ws';
  /** Cleared by each keepalive round, set again by a pong or any message. */
  alive = true;
  private ended = false;
  private turn: Buffer[] | null = null;
  /** Bytes in `turn`: they count against the send limit like ws's own buffer. */
  private turnBytes = 0;
  private limit = NO_SEND_LIMIT;
  private onOverflow: ((owner: unknown) => void) | null = null;
  /** What `onOverflow` is called with (the session: one handler for every connection). */
  private overflowOwner: unknown = null;
  private overflowed = false;
  /** Why we closed it, when we know better than the close code (ping timeout, ...). */
  private reason: string | null = null;
  /** The listener is closing: end() says 1001 "going away" rather than 1000. */
  private leaving = false;

  constructor(
    readonly ws: WebSocket,
    private readonly socket: Socket,
    readonly remoteAddress: string,
    readonly secure: boolean,
    /**
     * ws waits 30 s for the peer's side of the closing handshake before it destroys the
     * socket; every close here (ours, ws's own after a protocol error, or ws answering
     * the peer's close frame, which ends the socket: 'finish') waits only the linger.
     */
    private readonly linger: Linger,
  ) {
    const live = (): void => {
      this.alive = true;
    };
    ws.on('pong', live);
    ws.on('message', live);
    ws.on('error', (err: Error & { code?: string }) => {
      // ws has already sent the matching close frame (1009, 1007, 1002); keep our words.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.reason ??= 'message too large';
      else if (err.code === 'WS_ERR_INVALID_UTF8') this.reason ??= 'invalid UTF-8';
      else this.reason ??= err.message;
      linger.arm(socket);
    });
    socket.once('finish', () => linger.arm(socket));
  }

  write(data: Buffer): void {
    if (this.ended || this.overflowed || this.ws.readyState !== this.ws.OPEN) return;
    // A burst is handed over as it grows (see SocketLink.write), before it is judged.
    if (this.turnBytes > 0 && this.turnBytes + data.length > gatherLimit(this.limit)) this.flush();
    // Refused only when something already waits (see SocketLink.write).
    const pending = this.pendingBytes();
    if (pending > 0 && pending + data.length > this.limit) {
      this.overflowed = true;
      this.turn = null;
      this.turnBytes = 0;
      const handler = this.onOverflow;
      this.onOverflow = null;
      handler?.(this.overflowOwner);
      return;
    }
    this.turnBytes += data.length;
    if (this.turn === null) {
      this.turn = [data];
      flushAtEndOfTurn(this);
    } else {
      this.turn.push(data);
    }
  }

  limitSendQueue<T>(bytes: number, onOverflow: (owner: T) => void, owner: T): void {
    this.limit = bytes;
    this.onOverflow = onOverflow as (owner: unknown) => void;
    this.overflowOwner = owner;
  }

  whenDrained(cb: () => void): void {
    const check = (): void => {
      if (this.ws.readyState !== this.ws.OPEN || this.pendingBytes() === 0) cb();
      else setTimeout(check, 20);
    };
    setImmediate(check);
  }

  flush(): void {
    const turn = this.turn;
    if (turn === null) return;
    this.turn = null;
    this.turnBytes = 0;
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.socket.cork();
    for (const data of turn) this.ws.send(data, { binary: false });
    this.socket.uncork();
  }

  /** What this turn gathered plus what ws's sender and the socket still hold. */
  pendingBytes(): number {
    return this.turnBytes + this.ws.bufferedAmount;
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  /**
   * Sends what is queued, then a close frame: 1000 (normal), or 1001 (going away) when the
   * server is shutting down, so a client knows to come back rather than give up.
   */
  end(last?: Buffer | null, reason?: string): void {
    if (this.ended) return;
    this.flush();
    if (last && this.ws.readyState === this.ws.OPEN) this.ws.send(last, { binary: false });
    this.ended = true;
    const why = reason && !this.leaving ? closeReason(reason) : undefined;
    this.ws.close(this.leaving ? 1001 : 1000, why);
    this.linger.arm(this.socket);
  }

  /** The server is shutting down (RFC 6455 §7.4.1: 1001, "server going down"). */
  goingAway(): void {
    this.leaving = true;
  }

  destroy(): void {
    this.ended = true;
    this.turn = null;
    this.turnBytes = 0;
    this.ws.terminate();
  }

  /** Closes with a code and reason of our own (policy refusals, unsupported data). */
  closeWith(code: number, reason: string): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    this.reason ??= reason;
    this.ws.close(code, closeReason(reason));
    this.linger.arm(this.socket);
  }

  /** Drops a peer that stopped answering pings. */
  timeout(): void {
    this.reason ??= 'ping timeout';
    this.destroy();
  }

  onData<T = undefined>(handler: (data: Buffer, owner: T) => void, owner?: T): void {
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        this.closeWith(1003, 'binary messages are not supported; send JSON as text');
        return;
      }
      handler(data, owner as T);
    });
  }

  onClose<T = undefined>(handler: (reason: string, owner: T) => void, owner?: T): void {
    this.ws.on('close', (code: number) => handler(this.reason ?? describeClose(code), owner as T));
  }
}
