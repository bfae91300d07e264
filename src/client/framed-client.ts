/**
 * A small typed client for the framed protocol, used by the terminal client and usable by
 * bots: requests get a `ref` and resolve with the server's matching reply (or reject with
 * a RequestError carrying the server's error code).
 *
 *   const c = await FramedClient.connect('127.0.0.1', 8009, { timeoutMs: 2000 });
 *   const welcome = await c.request({ type: 'hello', name: 'bot' });
 *   c.on('message', (m) => console.log(m.from, m.text));
 *   await c.request({ type: 'say', room: '#lobby', text: 'hi' });
 *   c.close();
 *
 * Events: 'event' (every server message), one per message type ('message', 'joined', …;
 * a server `error` is emitted as 'server-error'), 'protocol-error' (the byte stream could
 * not be read: the connection is dropped), 'close'.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { encodeFrame, FrameDecoder } from '../protocols/framed/codec.js';
import type { ClientRequest, ServerMessage } from '../protocols/json/schema.js';

export type Reply = ServerMessage;

/** Any client message the schema accepts (as written, before defaults); `request` adds `ref`. */
export type Request = ClientRequest;

export interface ConnectOptions {
  /** Give up on the TCP connect after this long (default 2000 ms). */
  timeoutMs?: number;
  /** Largest frame accepted from the server (default 16 MiB). */
  maxFrame?: number;
}

export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class FramedClient extends EventEmitter {
  private nextRef = 0;
  private readonly pending = new Map<
    string,
    { resolve: (m: Reply) => void; reject: (e: Error) => void }
  >();
  closed = false;

  private constructor(
    private readonly socket: net.Socket,
    maxFrame: number,
  ) {
    super();
    const decoder = new FrameDecoder(maxFrame);
    socket.on('data', (chunk: Buffer) => {
      for (const item of decoder.push(chunk)) {
        if (item.kind === 'too_large') {
          // Past a bad length nothing more can be read; usually this is not a framed server
          // at all (a line server's greeting read as a length, for example).
          this.fail(`frame of ${item.length} bytes announced: not a Plugboard framed server?`);
          return;
        }
        let msg: Reply;
        try {
          msg = JSON.parse(item.payload.toString('utf8')) as Reply;
        } catch {
          this.fail('the server sent a frame that is not JSON');
          return;
        }
        this.dispatch(msg);
      }
    });
    socket.on('error', (err) => this.emit('socket-error', err));
    socket.on('close', () => {
      this.closed = true;
      for (const p of this.pending.values()) p.reject(new Error('Disconnected from server'));
      this.pending.clear();
      this.emit('close');
    });
  }

  /** Connects, or rejects with a readable reason (timed out, connection refused, …). */
  static connect(host: string, port: number, options: ConnectOptions = {}): Promise<FramedClient> {
    const timeoutMs = options.timeoutMs ?? 2000;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(new FramedClient(socket, options.maxFrame ?? 16 * 1024 * 1024));
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new Error(describe(err)));
      });
    });
  }

  private fail(reason: string): void {
    this.emit('protocol-error', new Error(reason));
    this.socket.destroy();
  }

  private dispatch(msg: Reply): void {
    const ref = 'ref' in msg && msg.ref !== undefined ? String(msg.ref) : null;
    const waiter = ref === null ? undefined : this.pending.get(ref);
    if (ref !== null && waiter) {
      this.pending.delete(ref);
      if (msg.type === 'error') waiter.reject(new RequestError(msg.code, msg.message));
      else waiter.resolve(msg);
    }
    this.emit('event', msg);
    // 'error' is special to EventEmitter (it throws without a listener): use another name.
    this.emit(msg.type === 'error' ? 'server-error' : msg.type, msg);
  }

  /** Sends without waiting for a reply. */
  send(msg: Request): void {
    if (!this.closed) this.socket.write(encodeFrame(JSON.stringify(msg)));
  }

  /** Sends a request and resolves with the reply that carries its ref. */
  request(msg: Request): Promise<Reply> {
    const ref = `c${++this.nextRef}`;
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error('Disconnected from server'));
        return;
      }
      this.pending.set(ref, { resolve, reject });
      this.send({ ...msg, ref });
    });
  }

  /** Requests still waiting for a reply. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Ends the connection (a `quit` first is politer: see the terminal client). */
  close(): void {
    this.socket.end();
    // A server that never closes its side must not keep us alive.
    setTimeout(() => this.socket.destroy(), 500).unref();
  }
}

function describe(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      return err.message;
  }
}
