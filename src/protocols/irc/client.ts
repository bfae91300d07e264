/**
 * One IRC connection as handlers see it: the session, its IRC state, and reply helpers.
 * It is also the Connection the hub writes to, which lets a labeled command
 * (IRCv3 labeled-response) gather everything it causes — replies and the events the hub
 * fans out to this client, such as an echo-message — and send it back labeled.
 */
import type { Hub } from '../../core/hub.js';
import { NO_SEND_LIMIT, type Connection, type Link } from '../../core/ports.js';
import type { Session } from '../../core/session.js';
import { Cap } from './caps.js';
import { serialize, type IrcMessage } from './codec.js';
import { isErrorNumeric, quoteParam } from './quote.js';
import type { IrcState } from './state.js';

let batchCounter = 0;

/** The link's overflow handler for every IRC client (no closure per connection). */
function linkOverflowed(client: IrcClient): void {
  client.linkOverflowed();
}

export class IrcClient implements Connection {
  session!: Session;
  /** The connection's owner: closes the flood gate and the hub session, runs keepalives. */
  owner: { close(reason: string): void; tick(now: number): void } | null = null;
  /** Output of the labeled command being run, or null. */
  private capture: Buffer[] | null = null;
  /** Its size: captured bytes count against the send limit like queued ones. */
  private captured = 0;
  private limit = NO_SEND_LIMIT;
  private onOverflow: ((owner: unknown) => void) | null = null;
  private overflowOwner: unknown = null;

  constructor(
    readonly hub: Hub,
    readonly link: Link,
    readonly state: IrcState,
  ) {}

  // ---- Connection (what the hub sees) ---------------------------------------------------

  get remoteAddress(): string {
    return this.link.remoteAddress;
  }

  get secure(): boolean {
    return this.link.secure;
  }

  /** On the prototype, not in each client. */
  get protocol(): string {
    return 'irc';
  }

  write(data: Buffer): void {
    if (!this.capture) {
      this.link.write(data);
      return;
    }
    if (this.captured + this.link.pendingBytes() + data.length > this.limit) {
      // A labeled command whose output would pass the limit (a labeled WHO of a huge
      // room to a reader that does not read) is an overflow like any other.
      this.capture = null;
      this.captured = 0;
      this.overflowed();
      return;
    }
    this.capture.push(data);
    this.captured += data.length;
  }

  pendingBytes(): number {
    return this.captured + this.link.pendingBytes();
  }

  limitSendQueue<T>(bytes: number, onOverflow: (owner: T) => void, owner: T): void {
    this.limit = bytes;
    this.onOverflow = onOverflow as (owner: unknown) => void;
    this.overflowOwner = owner;
    this.link.limitSendQueue(bytes, linkOverflowed, this);
  }

  /** Called by the link when its queue passed the limit. */
  linkOverflowed(): void {
    this.overflowed();
  }

  /** The send limit was passed, here or in the link: the owner's handler runs once. */
  private overflowed(): void {
    const handler = this.onOverflow;
    this.onOverflow = null;
    handler?.(this.overflowOwner);
  }

  whenDrained(cb: () => void): void {
    this.link.whenDrained(cb);
  }

  holdUntil(commit: Promise<void>): boolean {
    return this.link.holdUntil?.(commit) ?? false;
  }

  pause(): void {
    this.link.pause();
  }

  resume(): void {
    this.link.resume();
  }

  end(last?: Buffer | null, reason?: string): void {
    this.releaseCapture(null);
    this.link.end(last, reason);
  }

  destroy(): void {
    this.capture = null;
    this.captured = 0;
    this.link.destroy();
  }

  tick(now: number): void {
    this.owner?.tick(now);
  }

  /** Ends the connection (handlers: QUIT, a bad password). */
  close(reason: string): void {
    this.owner?.close(reason);
  }

  // ---- replies ------------------------------------------------------------------------

  get serverName(): string {
    return this.hub.options.serverName;
  }

  /** The reply target: the nick, or '*' before one is chosen (modern: "Numerics"). */
  get nick(): string {
    return this.session.name || '*';
  }

  has(cap: number): boolean {
    return (this.session.caps & cap) !== 0;
  }

  /** Sends one raw line (no CR LF), through the send-queue limit. */
  sendLine(text: string): void {
    this.session.send(Buffer.from(text + '\r\n'));
  }

  /** Sends a message from the server: `:server COMMAND params`. */
  fromServer(command: string, ...params: string[]): void {
    this.sendLine(serialize({ tags: this.timeTag(), source: this.serverName, command, params }));
  }

  /**
   * Sends a numeric reply addressed to this client. Replies name what the client sent
   * (the channel of a 403, the mask of an end of WHO): every parameter is quoted through
   * the cleaning rule, and an error reply's keep their places (quote.ts).
   */
  reply(numeric: string, ...params: string[]): void {
    const max = this.hub.options.maxMessageBytes;
    const error = isErrorNumeric(numeric);
    const last = params.length - 1;
    for (let i = 0; i <= last; i++) {
      params[i] = quoteParam(params[i] as string, i === last || !error, max);
    }
    this.fromServer(numeric, this.nick, ...params);
  }

  /**
   * Sends a standard reply `FAIL <command> <code> [context…] :<text>`
   * (ircv3.net/specs/extensions/standard-replies). The context names what the client sent
   * (a CHATHISTORY or MARKREAD target): quoted as an error reply's parameters are, each
   * keeping its place (quote.ts), and the text cleaned.
   */
  fail(command: string, code: string, ...params: string[]): void {
    const max = this.hub.options.maxMessageBytes;
    const last = params.length - 1;
    const quoted = params.map((p, i) => quoteParam(p, i === last, max));
    this.fromServer('FAIL', command, code, ...quoted);
  }

  /** server-time on server-originated lines too, so clients can order everything. */
  private timeTag(): Record<string, string> {
    return this.has(Cap.ServerTime) ? { time: new Date(this.hub.clock.now()).toISOString() } : {};
  }

  // ---- labeled-response ---------------------------------------------------------------

  /** True while a labeled command's output is being gathered (nothing reaches the socket). */
  get capturing(): boolean {
    return this.capture !== null;
  }

  /** Starts gathering output for a command that carried a `label` tag. */
  beginLabel(): void {
    this.capture = [];
  }

  /**
   * Sends what a labeled command produced: nothing becomes `ACK`, one line gets the label,
   * several go in a `labeled-response` batch (ircv3.net/specs/extensions/labeled-response).
   */
  endLabel(label: string): void {
    this.releaseCapture(label);
  }

  private releaseCapture(label: string | null): void {
    const captured = this.capture;
    if (!captured) return;
    this.capture = null;
    this.captured = 0;
    const raw = Buffer.concat(captured).toString('utf8');
    const lines = raw.split('\r\n').filter((l) => l !== '');
    if (label === null) {
      if (raw) this.link.write(Buffer.from(raw));
      return;
    }
    const labelTag = `label=${escapeLabel(label)}`;
    let out: string[];
    if (lines.length === 0) {
      out = [`@${labelTag} :${this.serverName} ACK`];
    } else if (lines.length === 1) {
      out = [addTag(lines[0] as string, labelTag)];
    } else if (this.has(Cap.Batch)) {
      const id = `L${(++batchCounter).toString(36)}`;
      out = [
        `@${labelTag} :${this.serverName} BATCH +${id} labeled-response`,
        ...lines.map((l) => addTag(l, `batch=${id}`)),
        `:${this.serverName} BATCH -${id}`,
      ];
    } else {
      out = lines;
    }
    this.session.send(Buffer.from(out.map((l) => l + '\r\n').join('')));
  }

  /** Parsed message helper for handlers that build replies from parts. */
  send(message: IrcMessage): void {
    this.sendLine(serialize(message));
  }
}

function escapeLabel(label: string): string {
  return label.replace(/[;\s\\]/g, '');
}

/**
 * Adds a tag to a serialized line that may already have tags. A line already in a batch
 * (the messages of a nested `chathistory` batch) keeps its own: only the nested batch's
 * BATCH lines carry the outer one (ircv3.net/specs/extensions/batch, "Nested batches").
 */
function addTag(l: string, tag: string): string {
  if (tag.startsWith('batch=') && /^@(?:[^ ]*;)?batch=/.test(l)) return l;
  return l.startsWith('@') ? `@${tag};${l.slice(1)}` : `@${tag} ${l}`;
}
