/**
 * A small typed client for the framed protocol, used by the terminal client and usable by
 * bots: requests get a `ref` and resolve with the server's matching reply.
 *
 *   const c = await FramedClient.connect('127.0.0.1', 8009);
 *   const welcome = await c.request({ type: 'hello', name: 'bot' });
 *   c.on('message', (m) => console.log(m.from, m.text));
 *   await c.request({ type: 'say', room: '#lobby', text: 'hi' });
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { encodeFrame, FrameDecoder } from '../protocols/framed/codec.js';
import type { ServerMessage } from '../protocols/json/schema.js';

export type Reply = ServerMessage;
/** A request as the schema defines it, without `ref` (the client adds one). */
export type Request = { type: string } & Record<string, unknown>;

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

  private constructor(private readonly socket: net.Socket) {
    super();
    const decoder = new FrameDecoder(16 * 1024 * 1024);
    socket.on('data', (chunk: Buffer) => {
      for (const item of decoder.push(chunk)) {
        if (item.kind !== 'frame') continue;
        let msg: Reply;
        try {
          msg = JSON.parse(item.payload.toString('utf8')) as Reply;
        } catch {
          continue;
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

  /** Connects, or rejects with a readable reason after `timeoutMs`. */
  static connect(host: string, port: number, timeoutMs = 2000): Promise<FramedClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(new FramedClient(socket));
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new Error(err.code === 'ECONNREFUSED' ? 'connection refused' : err.message));
      });
    });
  }

  private dispatch(msg: Reply): void {
    const ref = 'ref' in msg && msg.ref !== undefined ? String(msg.ref) : null;
    if (ref !== null && this.pending.has(ref)) {
      const p = this.pending.get(ref)!;
      this.pending.delete(ref);
      if (msg.type === 'error') p.reject(new RequestError(msg.code, msg.message));
      else p.resolve(msg);
    }
    this.emit('event', msg);
    // 'error' is special to EventEmitter (it throws without a listener): use another name.
    this.emit(msg.type === 'error' ? 'server-error' : msg.type, msg);
  }

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

  close(): void {
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 500).unref();
  }
}
