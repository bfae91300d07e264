/**
 * A net.Socket (or tls.TLSSocket) as a Link. On a plain TCP socket a turn's first write
 * goes straight to write(2) while the fan-out is at this connection; later writes in the
 * same turn (and every write in a burst turn, or on TLS) are gathered and handed over once
 * at the end of the turn as one buffer. Either way a fan-out costs one system call per
 * socket per turn, not one per event; see end-of-turn.ts and docs/operations.md.
 */
import { writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { NO_SEND_LIMIT, type Link } from '../core/ports.js';
import { countWrite, currentTurn, flushAtEndOfTurn } from './end-of-turn.js';
import { Linger } from './linger.js';

/** For links made without one (tests): the default linger, counted nowhere in particular. */
const defaultLinger = new Linger();

const LINK = Symbol('plugboard.link');
type LinkedSocket = Socket & { [LINK]?: SocketLink };

function onSocketError(this: LinkedSocket, err: NodeJS.ErrnoException): void {
  this[LINK]?.socketError(err);
}

function onSocketEnd(this: LinkedSocket): void {
  this[LINK]?.socketEnd();
}

function onSocketData(this: LinkedSocket, data: Buffer): void {
  this[LINK]?.socketData(data);
}

function onSocketClose(this: LinkedSocket): void {
  const link = this[LINK];
  if (!link) return;
  link.kind.released?.(link);
  link.socketClose();
}

const plainDestroy = Socket.prototype._destroy;

/**
 * Every way a net.Socket closes its descriptor (our destroy(), a read or write error, the
 * end of a half-closed connection) runs through the stream's `_destroy` hook, synchronously.
 * Marking the link there lets direct writes skip reading `socket.destroyed` (two objects
 * that are cache misses on a fan-out) while still never writing to a descriptor number the
 * kernel may already have given to a newer connection.
 */
function destroyMarkingLink(
  this: LinkedSocket,
  err: Error | null,
  cb: (err?: Error | null) => void,
): void {
  const link = this[LINK];
  if (link) link.socketDestroyed();
  plainDestroy.call(this, err, cb);
}

/**
 * Bytes a turn may gather for one link before they are handed to the socket at once
 * rather than at the end of the turn: well under the send limit, so gathering alone
 * never evicts anyone.
 */
export function gatherLimit(sendLimit: number): number {
  return Math.min(64 * 1024, Math.floor(sendLimit / 4));
}
/** How often a paced writer looks again at a backlog that will not emit 'drain'. */
const DRAIN_POLL_MS = 20;

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

/**
 * What every link of one listener shares: kept once per listener, not in each link (an
 * idle connection's link is most of what it costs; four fields are 32 bytes each time).
 */
export interface LinkKind {
  readonly protocol: string;
  readonly secure: boolean;
  /** Destroys the socket if the peer has not closed soon after end() (see linger.ts). */
  readonly linger: Linger;
  /**
   * Called first when the socket closes (the listener's admission release), shared by
   * every socket: one 'close' listener per socket rather than two, which would cost
   * each idle connection a listener array (~64 bytes).
   */
  readonly released: ((link: SocketLink) => void) | null;
}

export function linkKind(
  protocol: string,
  secure: boolean,
  linger: Linger = defaultLinger,
  released: ((link: SocketLink) => void) | null = null,
): LinkKind {
  return { protocol, secure, linger, released };
}

const ENDED = 1;
const DEAD = 2;
const OVERFLOWED = 4;
const STREAMED = 8;

export class SocketLink implements Link {
  readonly remoteAddress: string;
  /**
   * ended, dead, overflowed and streamed (the accessors below) as bits of one number, in
   * this object like the fields they replace: a field each cost every idle connection 8
   * bytes.
   */
  private bits = 0;
  /**
   * What this turn wrote, not yet handed to the socket: the first buffer alone (the usual
   * case, one event per turn, allocates no array), then all of them once there are more.
   */
  private first: Buffer | null = null;
  private more: Buffer[] | null = null;
  /** Bytes in `first`/`more`: they count against the send limit like queued ones. */
  private gathered = 0;
  /** The send limit (Connection.limitSendQueue) and what to do past it. */
  private limit = NO_SEND_LIMIT;
  private onOverflow: ((owner: unknown) => void) | null = null;
  /** What `onOverflow` is called with (the session: one handler for every connection). */
  private overflowOwner: unknown = null;
  /** The turn in which this link last wrote straight to the kernel. */
  private directTurn = 0;
  private dataHandler: ((data: Buffer, owner: unknown) => void) | null = null;
  private closeHandler: ((reason: string, owner: unknown) => void) | null = null;
  /**
   * What the handlers are called with: one owner per link (the connection reading it),
   * given with onData or onClose, whichever came last.
   */
  private owner: unknown = undefined;
  private closeReason = 'connection closed';
  /** The socket's descriptor for direct writes, or -1 (TLS, or no descriptor). */
  private readonly fd: number;

  constructor(
    private readonly socket: Socket,
    readonly kind: LinkKind,
  ) {
    this.remoteAddress = normalizeAddress(socket.remoteAddress);
    // Node keeps the peer address it looked up on the socket for the socket's life (an
    // object and two strings, ~110 bytes per connection); the link keeps the one string
    // it needs, shared by every socket from that address. Node looks it up again if asked.
    (socket as Socket & { _peername?: unknown })._peername = undefined;
    (socket as LinkedSocket)[LINK] = this;
    // Direct writes only on plain TCP sockets whose every close is seen: TLS goes through
    // its own stream, and a socket class with its own _destroy is not ours to wrap.
    const plain = !kind.secure && Object.getPrototypeOf(socket) === Socket.prototype;
    this.fd = plain ? descriptorOf(socket) : -1;
    if (this.fd >= 0) socket._destroy = destroyMarkingLink;
    this.dead = socket.destroyed;
    // Listening for errors from the start: an error with no listener would throw. The
    // reason is kept for the close handler.
    socket.on('error', onSocketError);
    // From the start, so `released` runs however early the socket closes; the close
    // handler (onClose) is only called once there is one.
    socket.on('close', onSocketClose);
  }

  private get ended(): boolean {
    return (this.bits & ENDED) !== 0;
  }
  private set ended(on: boolean) {
    this.bits = on ? this.bits | ENDED : this.bits & ~ENDED;
  }

  /** The socket has been destroyed: its descriptor is closed (see destroyMarkingLink). */
  private get dead(): boolean {
    return (this.bits & DEAD) !== 0;
  }
  private set dead(on: boolean) {
    this.bits = on ? this.bits | DEAD : this.bits & ~DEAD;
  }

  /** Past the send limit: nothing more is written. */
  private get overflowed(): boolean {
    return (this.bits & OVERFLOWED) !== 0;
  }
  private set overflowed(on: boolean) {
    this.bits = on ? this.bits | OVERFLOWED : this.bits & ~OVERFLOWED;
  }

  /**
   * Set when data went through the stream (the kernel did not take it all at once); cleared
   * when the stream reports nothing queued. While clear, the hot path never reads the
   * stream's state: on a big fan-out every object touched per recipient is a cache miss.
   */
  private get streamed(): boolean {
    return (this.bits & STREAMED) !== 0;
  }
  private set streamed(on: boolean) {
    this.bits = on ? this.bits | STREAMED : this.bits & ~STREAMED;
  }

  get protocol(): string {
    return this.kind.protocol;
  }

  get secure(): boolean {
    return this.kind.secure;
  }

  write(data: Buffer): void {
    // A socket destroyed under us (a read error) is caught before any write of ours.
    if (this.ended || this.overflowed) return;
    // A burst (thousands of events in one turn) is handed over as it grows, before it is
    // judged: what waits here stays small, what a fast reader's kernel buffer takes is not
    // held against it, and only a reader that does not read fills its queue.
    if (this.gathered > 0 && this.gathered + data.length > gatherLimit(this.limit)) this.flush();
    // Every byte counts, whoever writes it. A write is refused only when something is
    // already waiting: one reply larger than the limit (a big history page) still goes
    // out to a reader that keeps up. The hot path (nothing waiting) reads no stream state.
    if ((this.first !== null || this.streamed) && this.overLimit(data.length)) {
      this.overflow();
      return;
    }
    if (this.first !== null) {
      // Already gathering this turn.
      countWrite(true);
      this.gathered += data.length;
      if (this.more === null) this.more = [this.first, data];
      else this.more.push(data);
    } else {
      const turn = currentTurn();
      const again = this.directTurn === turn;
      const straight = countWrite(again);
      if (straight && !again && this.fd >= 0 && !this.streamed) {
        // The turn's first write, nothing queued: straight to the kernel while this link
        // is still in the CPU cache (see end-of-turn.ts for when the turn gathers instead).
        this.directTurn = turn;
        this.send(data);
        return;
      }
      this.first = data;
      this.gathered = data.length;
      flushAtEndOfTurn(this);
    }
  }

  private overLimit(adding: number): boolean {
    const pending = this.pendingBytes();
    return pending > 0 && pending + adding > this.limit;
  }

  limitSendQueue<T>(bytes: number, onOverflow: (owner: T) => void, owner: T): void {
    this.limit = bytes;
    this.onOverflow = onOverflow as (owner: unknown) => void;
    this.overflowOwner = owner;
  }

  /** Past the limit: drop what waits, tell the owner (once), who closes the link. */
  private overflow(): void {
    this.overflowed = true;
    this.first = null;
    this.more = null;
    this.gathered = 0;
    const handler = this.onOverflow;
    this.onOverflow = null;
    handler?.(this.overflowOwner);
  }

  whenDrained(cb: () => void): void {
    const check = (): void => {
      if (this.dead || this.socket.destroyed || this.pendingBytes() === 0) cb();
      // 'drain' is only emitted after a write() that returned false; otherwise look again.
      else if (this.socket.writableNeedDrain) this.socket.once('drain', check);
      else setTimeout(check, DRAIN_POLL_MS);
    };
    setImmediate(check);
  }

  flush(): void {
    const first = this.first;
    if (first === null) return;
    const more = this.more;
    this.first = null;
    this.more = null;
    this.gathered = 0;
    this.send(more === null ? first : Buffer.concat(more));
  }

  /** Hands bytes to the kernel directly when nothing is queued, else to the stream. */
  private send(data: Buffer): void {
    // Checked before every write: a destroyed socket's descriptor may already belong to a
    // connection accepted since. Set synchronously by destroyMarkingLink.
    if (this.dead || (this.fd < 0 && this.socket.destroyed)) return;
    if (this.fd >= 0 && this.pendingBytes() === 0) {
      const written = tryWrite(this.fd, data);
      if (written === data.length) return;
      if (written > 0) data = data.subarray(written);
    }
    this.streamed = true;
    this.socket.write(data);
  }

  /**
   * What waits for this reader: what this turn gathered and what the kernel has not taken
   * yet. A turn's own replies count too: 150 clients asking for 1,000 lines of history
   * and never reading held 726 MB when they did not.
   */
  pendingBytes(): number {
    if (!this.streamed) return this.gathered;
    // Only our own socket.write() calls add to the stream's queue, so once it is empty it
    // stays empty until the next one sets the flag again.
    const queued = this.socket.writableLength;
    if (queued === 0) this.streamed = false;
    return queued + this.gathered;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(last?: Buffer | null): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    // A half-closed socket keeps its descriptor for as long as the peer keeps its side
    // open: the linger destroys it if the peer has not closed soon (linger.ts).
    this.kind.linger.end(this.socket, last && !this.dead ? last : undefined);
  }

  destroy(): void {
    this.ended = true;
    this.first = null;
    this.more = null;
    this.gathered = 0;
    this.socket.destroy();
  }

  // Shared listeners that find this link through the socket, handlers that get their
  // owner passed: no closures per connection (tens of thousands of links are alive at once).

  onData<T = undefined>(handler: (data: Buffer, owner: T) => void, owner?: T): void {
    const first = this.dataHandler === null;
    this.dataHandler = handler as (data: Buffer, owner: unknown) => void;
    if (owner !== undefined) this.owner = owner;
    if (first) this.socket.on('data', onSocketData);
  }

  onClose<T = undefined>(handler: (reason: string, owner: T) => void, owner?: T): void {
    const first = this.closeHandler === null;
    this.closeHandler = handler as (reason: string, owner: unknown) => void;
    if (owner !== undefined) this.owner = owner;
    if (first) this.socket.on('end', onSocketEnd);
  }

  socketData(data: Buffer): void {
    this.dataHandler?.(data, this.owner);
  }

  /** Called by the shared listeners below. */
  socketError(err: NodeJS.ErrnoException): void {
    this.closeReason = err.code === 'ECONNRESET' ? 'connection reset by peer' : err.message;
  }

  socketDestroyed(): void {
    this.dead = true;
  }

  socketEnd(): void {
    // The peer half-closed (nc after stdin EOF, or a client's QUIT): finish our side.
    if (!this.ended) this.end();
  }

  socketClose(): void {
    this.closeHandler?.(this.closeReason, this.owner);
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
