/**
 * Clients for the hostile-input tests that keep every byte they receive, so a test can
 * judge the whole stream and not only what a helper chose to parse: the line protocol and
 * IRC as the text received, the framed protocol and WebSocket as each message's raw JSON.
 * Each can wait for what it expects and make a round trip (`barrier`) after which
 * everything the server wrote to it before has arrived.
 */
import net from 'node:net';
import WebSocket from 'ws';
import { encodeFrame, FrameDecoder } from '../../../src/protocols/framed/codec.js';
import { parse, type IrcMessage } from '../../../src/protocols/irc/codec.js';

export type Proto = 'line' | 'irc' | 'framed' | 'ws';
export type Json = Record<string, unknown> & { type: string };

/**
 * What nobody may receive inside a line or a JSON string: C0 controls but TAB (CR and LF
 * among them: a second line), DEL, C1 controls (U+0085 NEL, U+009B CSI), ESC, the
 * Unicode line and paragraph separators and the bidirectional embeddings, overrides and
 * isolates. Written out here, not taken from the code under test.
 */
export const FORBIDDEN = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

function describe(s: string): string {
  return JSON.stringify(s.length > 300 ? `${s.slice(0, 300)}…` : s);
}

/**
 * The listeners the attack tests speak (IRC, framed, HTTP/WebSocket besides the line
 * protocol) on port 0, with flood control off so an attack is judged on what it sends,
 * not on being throttled first.
 */
export const ATTACK_SERVER_FLAGS: readonly string[] = [
  '--irc-port',
  '0',
  '--framed-port',
  '0',
  '--http-port',
  '0',
  '--flood-rate',
  '0',
];

let barrierSeq = 0;

abstract class Peer<U> {
  readonly units: U[] = [];
  private cursor = 0;
  private waiters: { test: (u: U) => boolean; resolve: (u: U) => void }[] = [];
  closed = false;
  private closeWaiters: (() => void)[] = [];

  protected push(u: U): void {
    this.units.push(u);
    this.waiters = this.waiters.filter((w) => !this.scan(w));
  }

  protected markClosed(): void {
    this.closed = true;
    for (const w of this.closeWaiters) w();
  }

  private scan(w: { test: (u: U) => boolean; resolve: (u: U) => void }): boolean {
    for (let i = this.cursor; i < this.units.length; i++) {
      if (w.test(this.units[i] as U)) {
        this.cursor = i + 1;
        w.resolve(this.units[i] as U);
        return true;
      }
    }
    return false;
  }

  /** The next unit after the last one matched that passes `test`. */
  expect(test: (u: U) => boolean, timeoutMs = 5000): Promise<U> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const tail = this.units.slice(-15).map((u) => describe(String(u)));
        reject(new Error(`${this.label}: timed out; last received:\n${tail.join('\n')}`));
      }, timeoutMs);
      const waiter = {
        test,
        resolve: (u: U) => {
          clearTimeout(timer);
          resolve(u);
        },
      };
      if (!this.scan(waiter)) this.waiters.push(waiter);
    });
  }

  /** Skips everything received so far: `expect` looks only at what comes next. */
  skip(): void {
    this.cursor = this.units.length;
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.label}: not closed`)), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  abstract readonly label: string;
  abstract barrier(): Promise<void>;
  abstract close(): void;
}

/** Connects from `from` (127.0.0.2 is another local address) and resolves once connected. */
async function connectTcp(port: number, from?: string): Promise<net.Socket> {
  const socket = net.connect({
    port,
    host: '127.0.0.1',
    ...(from ? { localAddress: from } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/**
 * Text split at LF, for the line protocol and IRC: the whole text is kept in `raw`, each
 * line goes through `onLine`, and what is left without a line break through `onPartial`
 * (prompts end without one).
 */
abstract class TextPeer extends Peer<string> {
  raw = '';
  private partial = '';

  constructor(readonly socket: net.Socket) {
    super();
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.raw += text;
      this.partial += text;
      let i;
      while ((i = this.partial.indexOf('\n')) >= 0) {
        const line = this.partial.slice(0, i);
        this.partial = this.partial.slice(i + 1);
        this.onLine(line);
      }
      if (this.partial && this.onPartial(this.partial)) this.partial = '';
    });
    socket.on('close', () => this.markClosed());
    socket.on('error', () => {});
  }

  protected abstract onLine(line: string): void;

  /** Whether `partial` was taken as a unit of its own. */
  protected onPartial(_partial: string): boolean {
    return false;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Line-protocol text, kept whole; units are the lines (LF removed, CR kept). */
export class LinePeer extends TextPeer {
  label: string;

  private constructor(
    socket: net.Socket,
    public name: string,
  ) {
    super(socket);
    this.label = `line ${name}`;
  }

  protected onLine(line: string): void {
    this.push(line);
  }

  /** Prompts end without a line break. */
  protected override onPartial(partial: string): boolean {
    if (!partial.endsWith('Choose a name: ') && !partial.endsWith('Server password: ')) {
      return false;
    }
    this.push(partial);
    return true;
  }

  /** `from`: the local address to connect from (127.0.0.2 is another address). */
  static async connect(port: number, name = '?', from?: string): Promise<LinePeer> {
    return new LinePeer(await connectTcp(port, from), name);
  }

  /** Connects and chooses `name`; resolves after the welcome. */
  static async named(port: number, name: string, from?: string): Promise<LinePeer> {
    const p = await LinePeer.connect(port, name, from);
    await p.expect((l) => l.endsWith('Choose a name: '));
    p.send(name);
    await p.line(/^\* Welcome, /);
    return p;
  }

  /** LF-terminated, as nc sends (a CR LF would make the server take it for telnet). */
  send(text: string): void {
    this.socket.write(text + '\n');
  }

  line(re: RegExp, timeoutMs?: number): Promise<string> {
    return this.expect((l) => re.test(l.replace(/\r$/, '')), timeoutMs).then((l) =>
      l.replace(/\r$/, ''),
    );
  }

  /** Commands run in order: the answer to an unknown one follows everything before it. */
  async barrier(): Promise<void> {
    const token = `barrier${++barrierSeq}`;
    this.send(`/${token}`);
    await this.line(new RegExp(`^! Unknown command /${token}\\b`));
  }
}

/** IRC text, kept whole; units are the lines (CR LF removed). PINGs are answered. */
export class IrcPeer extends TextPeer {
  label: string;

  private constructor(
    socket: net.Socket,
    public nick: string,
  ) {
    super(socket);
    this.label = `irc ${nick}`;
  }

  protected onLine(raw: string): void {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('PING ')) this.send(`PONG ${line.slice(5)}`);
    this.push(line);
  }

  /** `from`: the local address to connect from (127.0.0.2 is another address). */
  static async connect(port: number, nick = '?', from?: string): Promise<IrcPeer> {
    return new IrcPeer(await connectTcp(port, from), nick);
  }

  /** Registers with `caps` (IRCv3) and `realname`; resolves after RPL_WELCOME. */
  static async register(
    port: number,
    nick: string,
    opts: { caps?: string[]; realname?: string; user?: string; from?: string } = {},
  ): Promise<IrcPeer> {
    const p = await IrcPeer.connect(port, nick, opts.from);
    if (opts.caps?.length) p.send(`CAP REQ :${opts.caps.join(' ')}`);
    p.send(`NICK ${nick}`);
    p.send(`USER ${opts.user ?? nick} 0 * :${opts.realname ?? nick}`);
    if (opts.caps?.length) p.send('CAP END');
    await p.line(/^:\S+ 001 /);
    return p;
  }

  send(line: string): void {
    this.socket.write(line + '\r\n');
  }

  line(re: RegExp, timeoutMs?: number): Promise<string> {
    return this.expect((l) => re.test(l), timeoutMs);
  }

  /** Commands run in order: the PONG follows everything the commands before it caused. */
  async barrier(): Promise<void> {
    const token = `barrier${++barrierSeq}`;
    this.send(`PING ${token}`);
    await this.line(new RegExp(` PONG \\S+ :?${token}$`));
  }
}

/** Shared by the framed protocol and WebSocket: units are each message's JSON text. */
abstract class JsonPeer extends Peer<string> {
  abstract send(message: object): void;

  /** The next message (parsed) that passes `test`. */
  async json(test: (m: Json) => boolean, timeoutMs?: number): Promise<Json> {
    const text = await this.expect((u) => {
      const m = tryParse(u);
      return m !== null && test(m);
    }, timeoutMs);
    return JSON.parse(text) as Json;
  }

  async barrier(): Promise<void> {
    const ref = `barrier${++barrierSeq}`;
    this.send({ type: 'ping', ref });
    await this.json((m) => m.type === 'pong' && m.ref === ref);
  }

  /** Sends `message` with a fresh ref; resolves with the `ok` or `error` answering it. */
  async request(message: object, timeoutMs?: number): Promise<Json> {
    const ref = `r${++barrierSeq}`;
    this.send({ ...message, ref });
    return this.json((m) => m.ref === ref && m.type !== 'pong', timeoutMs);
  }
}

function tryParse(text: string): Json | null {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Json) : null;
  } catch {
    return null;
  }
}

export class FramedPeer extends JsonPeer {
  label: string;

  private constructor(
    readonly socket: net.Socket,
    public name: string,
  ) {
    super();
    this.label = `framed ${name}`;
    const decoder = new FrameDecoder(1 << 26);
    socket.on('data', (chunk: Buffer) => {
      for (const item of decoder.push(chunk)) {
        this.push(item.kind === 'frame' ? item.payload.toString('utf8') : '<frame too large>');
      }
    });
    socket.on('close', () => this.markClosed());
    socket.on('error', () => {});
  }

  /** `from`: the local address to connect from (127.0.0.2 is another address). */
  static async connect(port: number, name = '?', from?: string): Promise<FramedPeer> {
    const socket = net.connect({
      port,
      host: '127.0.0.1',
      ...(from ? { localAddress: from } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new FramedPeer(socket, name);
  }

  static async hello(port: number, name: string, extra: object = {}): Promise<FramedPeer> {
    const p = await FramedPeer.connect(port, name);
    p.send({ type: 'hello', name, ...extra });
    await p.json((m) => m.type === 'welcome');
    return p;
  }

  send(message: object): void {
    this.socket.write(encodeFrame(JSON.stringify(message)));
  }

  close(): void {
    this.socket.destroy();
  }
}

export class WsPeer extends JsonPeer {
  label: string;
  closeInfo: { code: number; reason: string } | null = null;

  private constructor(
    readonly ws: WebSocket,
    public name: string,
  ) {
    super();
    this.label = `ws ${name}`;
    ws.on('message', (data: Buffer) => this.push(data.toString('utf8')));
    ws.on('close', (code: number, reason: Buffer) => {
      this.closeInfo = { code, reason: reason.toString('utf8') };
      this.markClosed();
    });
    ws.on('error', () => {});
  }

  static open(port: number, name = '?'): Promise<WsPeer> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsPeer(ws, name)));
      ws.once('error', reject);
    });
  }

  static async hello(port: number, name: string, extra: object = {}): Promise<WsPeer> {
    const p = await WsPeer.open(port, name);
    p.send({ type: 'hello', name, ...extra });
    await p.json((m) => m.type === 'welcome');
    return p;
  }

  send(message: object): void {
    this.ws.send(JSON.stringify(message));
  }

  close(): void {
    this.ws.terminate();
  }
}

export type AnyPeer = LinePeer | IrcPeer | FramedPeer | WsPeer;

// ---- judging what a peer received ----------------------------------------------------

/** The trailing text of a CTCP ACTION (`/me`) without its \x01 framing, which IRC needs. */
function withoutCtcpFraming(m: IrcMessage): string[] {
  const params = [...m.params];
  const last = params.length - 1;
  const text = params[last];
  if ((m.command === 'PRIVMSG' || m.command === 'NOTICE') && text !== undefined) {
    const action = /^\x01ACTION (.*)\x01$/su.exec(text);
    if (action) params[last] = action[1] as string;
  }
  return params;
}

function deepStrings(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) deepStrings(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      deepStrings(x, out);
    }
  }
}

/**
 * What is wrong with what `peer` received from unit/offset `from` on (an empty list when
 * nothing is). `strict`: also no forbidden character anywhere (what others caused must be
 * clean; a peer's own error replies may echo its own input).
 */
export function problems(peer: AnyPeer, from: number, strict = true): string[] {
  const out: string[] = [];
  if (peer instanceof LinePeer || peer instanceof IrcPeer) {
    const text = peer.raw.slice(from);
    const pieces = text.split('\r\n');
    pieces.pop(); // not finished yet (or a prompt)
    for (const piece of pieces) {
      if (peer instanceof IrcPeer) {
        if (/[\r\n]/.test(piece)) out.push(`${peer.label}: line break inside ${describe(piece)}`);
        const m = parse(piece);
        if (!m) {
          out.push(`${peer.label}: unparsable IRC line ${describe(piece)}`);
          continue;
        }
        if (m.source !== null && /^evil\b/i.test(m.source)) {
          out.push(`${peer.label}: forged source in ${describe(piece)}`);
        }
        if (strict) {
          const parts = [
            m.command,
            m.source ?? '',
            ...withoutCtcpFraming(m),
            ...Object.values(m.tags),
          ];
          if (parts.some((p) => FORBIDDEN.test(p))) {
            out.push(`${peer.label}: forbidden character in ${describe(piece)}`);
          }
        }
      } else if (FORBIDDEN.test(piece) && (strict || /[\r\n]/.test(piece))) {
        out.push(`${peer.label}: forbidden character in ${describe(piece)}`);
      }
      if (/^:?evil[! ]/.test(piece)) out.push(`${peer.label}: forged line ${describe(piece)}`);
    }
    return out;
  }
  for (const unit of peer.units.slice(from)) {
    let v: unknown;
    try {
      v = JSON.parse(unit);
    } catch {
      out.push(`${peer.label}: not JSON ${describe(unit)}`);
      continue;
    }
    if (!strict) continue;
    const strings: string[] = [];
    deepStrings(v, strings);
    if (strings.some((s) => FORBIDDEN.test(s))) {
      out.push(`${peer.label}: forbidden character in ${describe(unit)}`);
    }
  }
  return out;
}

/** Where `problems` should start looking for what arrives from now on. */
export function offset(peer: AnyPeer): number {
  return peer instanceof LinePeer || peer instanceof IrcPeer ? peer.raw.length : peer.units.length;
}
