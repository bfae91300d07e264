/**
 * Small raw clients over real loopback sockets, one per wire format, that keep what the
 * server sent exactly as it came (the injection checks read the raw lines and frames) and
 * wait for what a scenario expects with a bound in time. None of them retries or
 * reconnects: a scenario sees every failure.
 */
import net from 'node:net';
import WebSocket from 'ws';
import { encodeFrame, FrameDecoder } from '../../src/protocols/framed/codec.js';

/** What a client has received, with waits that scan from a given position. */
export class Inbox<T> {
  readonly items: T[] = [];
  private waiters: { pred: (t: T) => boolean; from: number; done: (t: T) => void }[] = [];
  /** Drop items beyond this many (long runs): waits only see what is kept. */
  constructor(private readonly keep = Infinity) {}

  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.keep) this.items.splice(0, this.items.length - this.keep);
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(item)) return true;
      w.done(item);
      return false;
    });
  }

  /** The first item from `from` on (default: from the start) that matches. */
  waitFor(pred: (t: T) => boolean, timeoutMs: number, from = 0, what = 'a match'): Promise<T> {
    for (let i = from; i < this.items.length; i++) {
      const t = this.items[i] as T;
      if (pred(t)) return Promise.resolve(t);
    }
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        from,
        done: (t: T) => {
          clearTimeout(timer);
          resolve(t);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  get length(): number {
    return this.items.length;
  }
}

export interface ConnectOptions {
  /** Source address inside 127.0.0.0/8 (per-address limits see a different client). */
  localAddress?: string;
  timeoutMs?: number;
  /** Lines or messages kept (Infinity by default). */
  keep?: number;
  /** Keep our side open when the server closes its side (a peer that never closes). */
  allowHalfOpen?: boolean;
}

function connectTcp(port: number, o: ConnectOptions = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: '127.0.0.1',
      port,
      allowHalfOpen: o.allowHalfOpen ?? false,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${port}: timed out`));
    }, o.timeoutMs ?? 5000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.on('error', () => {});
      resolve(socket);
    });
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once('error', onError);
  });
}

/** A TCP client that only counts and closes: attackers and descriptor hogs. */
export class RawConn {
  bytesIn = 0;
  readonly closed: Promise<void>;
  isClosed = false;
  /** The first bytes the server sent (up to 4 KiB), for reports. */
  head = Buffer.alloc(0);

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.bytesIn += d.length;
      if (this.head.length < 4096) this.head = Buffer.concat([this.head, d]).subarray(0, 4096);
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
  }

  static async connect(port: number, o: ConnectOptions = {}): Promise<RawConn> {
    return new RawConn(await connectTcp(port, o));
  }

  write(data: Buffer | string): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(data, () => resolve());
    });
  }

  /** Resolves true once the server has closed, false if it is still open after timeoutMs. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      this.closed.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return r;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * A text-line client for the line protocol and IRC. Lines are split on LF only, so a bare
 * CR inside a line stays visible to the checks; `rawLines` keeps each line's bytes with
 * its line end.
 */
export class TextConn {
  readonly lines: Inbox<string>;
  readonly rawLines: Buffer[] = [];
  keepRaw = false;
  private pending = Buffer.alloc(0);
  readonly closed: Promise<void>;
  isClosed = false;
  /** Called for every complete line (raw bytes, LF included). */
  onRaw?: (raw: Buffer) => void;

  private constructor(
    readonly socket: net.Socket,
    private readonly irc: boolean,
    keep: number,
  ) {
    this.lines = new Inbox<string>(keep);
    socket.on('data', (d: Buffer) => this.data(d));
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
  }

  static async connect(port: number, irc: boolean, o: ConnectOptions = {}): Promise<TextConn> {
    return new TextConn(await connectTcp(port, o), irc, o.keep ?? Infinity);
  }

  private data(d: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, d]) : d;
    let nl: number;
    while ((nl = buf.indexOf(0x0a)) >= 0) {
      const raw = buf.subarray(0, nl + 1);
      buf = buf.subarray(nl + 1);
      if (this.keepRaw) this.rawLines.push(Buffer.from(raw));
      this.onRaw?.(raw);
      const text = raw.toString('utf8').replace(/\r?\n$/, '');
      if (this.irc && text.startsWith('PING ')) this.send(`PONG ${text.slice(5)}`);
      this.lines.push(text);
    }
    // The line protocol's prompts end without a line end.
    const rest = buf.toString('utf8');
    if (!this.irc && (rest.endsWith('Choose a name: ') || rest.endsWith('Server password: '))) {
      this.lines.push(rest);
      buf = Buffer.alloc(0);
    }
    this.pending = Buffer.from(buf);
  }

  send(line: string): void {
    if (!this.socket.destroyed) this.socket.write(line + (this.irc ? '\r\n' : '\n'));
  }

  write(data: Buffer | string): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  waitLine(re: RegExp, timeoutMs = 5000, from = 0): Promise<string> {
    return this.lines.waitFor((l) => re.test(l), timeoutMs, from, String(re));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Registers on the line protocol; resolves after the welcome. */
export async function lineUser(port: number, name: string, o: ConnectOptions = {}) {
  const c = await TextConn.connect(port, false, o);
  await c.waitLine(/Choose a name: $/, o.timeoutMs ?? 5000);
  c.send(name);
  await c.waitLine(/^\* Welcome, /, o.timeoutMs ?? 5000);
  return c;
}

/** Registers on IRC (with the given capabilities); resolves after 001. */
export async function ircUser(
  port: number,
  nick: string,
  o: ConnectOptions & { caps?: string[]; user?: string; realname?: string } = {},
) {
  const c = await TextConn.connect(port, true, o);
  if (o.caps?.length) c.send('CAP LS 302');
  c.send(`NICK ${nick}`);
  c.send(`USER ${o.user ?? nick} 0 * :${o.realname ?? nick}`);
  if (o.caps?.length) {
    c.send(`CAP REQ :${o.caps.join(' ')}`);
    await c.waitLine(/ CAP \S+ (ACK|NAK) /, o.timeoutMs ?? 5000);
    c.send('CAP END');
  }
  await c.waitLine(/^(@\S+ )?:\S+ 001 /, o.timeoutMs ?? 5000);
  return c;
}

export type Msg = Record<string, unknown> & { type: string };

/** What the JSON clients (framed TCP and WebSocket) share: messages, refs, raw text. */
abstract class JsonConn {
  readonly msgs: Inbox<Msg>;
  /** Called with each message's raw JSON text as it came. */
  onRaw?: (json: string) => void;
  private nextRef = 1;
  isClosed = false;
  abstract readonly closed: Promise<void>;

  constructor(keep: number) {
    this.msgs = new Inbox<Msg>(keep);
  }

  protected received(json: string): void {
    this.onRaw?.(json);
    let m: Msg;
    try {
      m = JSON.parse(json) as Msg;
    } catch {
      m = { type: '__unparsable__', json };
    }
    this.msgs.push(m);
  }

  abstract send(obj: object): void;
  abstract close(): void;

  /** Sends with a fresh ref; resolves with the reply (any type) carrying it. */
  request(obj: object, timeoutMs = 5000): Promise<Msg> {
    const ref = this.nextRef++;
    const from = this.msgs.length;
    this.send({ ...obj, ref });
    const reply = this.msgs.waitFor(
      (m) => m.ref === ref && m.type !== 'message' && m.type !== 'dm',
      timeoutMs,
      from,
      `reply to ${JSON.stringify(obj).slice(0, 80)}`,
    );
    // A closed connection answers nothing more: fail at once rather than at the timeout.
    const closed = this.closed.then(() => {
      throw new Error('connection closed');
    });
    return Promise.race([reply, closed]);
  }

  waitType(type: string, timeoutMs = 5000, from = 0, pred: (m: Msg) => boolean = () => true) {
    return this.msgs.waitFor((m) => m.type === type && pred(m), timeoutMs, from, type);
  }

  /** hello, then wait for the welcome and the default room's join. */
  async hello(name: string, timeoutMs = 5000): Promise<Msg> {
    const from = this.msgs.length;
    this.send({ type: 'hello', name });
    const welcome = await this.msgs.waitFor(
      (m) => m.type === 'welcome' || m.type === 'error',
      timeoutMs,
      from,
      'welcome',
    );
    if (welcome.type === 'error') throw new Error(`hello refused: ${JSON.stringify(welcome)}`);
    await this.waitType('history', timeoutMs, from);
    return welcome;
  }
}

export class FramedConn extends JsonConn {
  readonly closed: Promise<void>;

  private constructor(
    readonly socket: net.Socket,
    keep: number,
  ) {
    super(keep);
    const decoder = new FrameDecoder(1 << 26);
    socket.on('data', (d: Buffer) => {
      for (const item of decoder.push(d)) {
        if (item.kind === 'frame') this.received(item.payload.toString('utf8'));
      }
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
  }

  static async connect(port: number, o: ConnectOptions = {}): Promise<FramedConn> {
    return new FramedConn(await connectTcp(port, o), o.keep ?? Infinity);
  }

  send(obj: object): void {
    if (!this.socket.destroyed) this.socket.write(encodeFrame(JSON.stringify(obj)));
  }

  close(): void {
    this.socket.destroy();
  }
}

export class WsConn extends JsonConn {
  readonly closed: Promise<void>;
  closeCode = 0;

  private constructor(
    readonly ws: WebSocket,
    keep: number,
  ) {
    super(keep);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.received(data.toString('utf8'));
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      ws.on('close', (code: number) => {
        this.isClosed = true;
        this.closeCode = code;
        resolve();
      }),
    );
  }

  static open(port: number, o: ConnectOptions = {}): Promise<WsConn> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      handshakeTimeout: o.timeoutMs ?? 5000,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsConn(ws, o.keep ?? Infinity)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  send(obj: object): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }

  close(): void {
    this.ws.terminate();
  }
}

export type JsonClient = FramedConn | WsConn;
