/**
 * One telnet/netcat connection: banner, (password), name prompt, then lines and slash
 * commands. Input passes the flood gate before anything else sees it; telnet negotiation
 * (telnet-peer.ts) is answered as it is read, through the same bounded send path.
 *
 * A class rather than a nest of closures: tens of thousands of these stay alive at once,
 * and methods on a prototype cost nothing per connection.
 */
import { ChatError } from '../../core/errors.js';
import type { Hub } from '../../core/hub.js';
import { InboundGate, type GateHooks } from '../../core/inbound-gate.js';
import { orderedByCommits } from '../../core/commit-order.js';
import { InOrder } from '../../core/in-order.js';
import { TokenBucket } from '../../core/flood.js';
import type { Link } from '../../core/ports.js';
import type { Session } from '../../core/session.js';
import { sendPaced } from '../../core/pacer.js';
import { addressProof, positionIn, type SeenPositions } from '../../core/resume.js';
import { fold } from '../../core/names.js';
import { clock, stripControls } from '../../core/text.js';
import { commandsByName, formatHistory, tooLong, type CommandContext } from './commands.js';
import { LineDecoder, type LineItem } from './decoder.js';
import { lineBytes, lineEncoder, setWrapWidth, wrapWidth, type OutLine } from './encoder.js';
import { TelnetPeer, type PeerAction } from './telnet-peer.js';

const enum Stage {
  Password,
  Name,
  Chat,
}

const NAME_PROMPT = Buffer.from('Choose a name: ');
const PASSWORD_PROMPT = Buffer.from('Server password: ');

/**
 * How much longer than its text a line may be: `/msg NAME ` with the longest name is 36
 * bytes. The decoder reads lines up to the text limit plus this, so a line it cuts is always
 * one whose text is over the limit, and every such line gets the same answer.
 */
const COMMAND_ROOM = 64;

/**
 * Answers to telnet requests a client may have in flight: a burst, then a steady rate.
 * Debian's telnet needs a handful at the start and one per interrupt key; a client that
 * asks for more is looping or flooding, and is disconnected.
 */
const NEGOTIATION_BURST = 50;
const NEGOTIATION_RATE = 5;

/**
 * A carriage return after each line from a telnet client we send 8-bit output to: Debian's
 * telnet then turns its terminal's output processing off, so its local echo of Enter moves
 * down a row without returning to the margin, and the next line would start where the last
 * one ended.
 */
const CR = Buffer.from('\r');

/**
 * Once our telnet requests are out, lines wait this long at most for the answers, so that
 * what answers them (the welcome, recent history) is already wrapped to the window and the
 * client already sends 8-bit text. Telnet answers within a round trip; `nc -C` never does.
 */
const HOLD_MS = 300;
/** Lines a connection may have waiting meanwhile; more release them at once. */
const MAX_WAITING = 20;

const MANGLED =
  '! Your telnet client changed some characters of that line (it was not in 8-bit mode yet); ' +
  'nothing was sent: please type it again';

const MANGLED_LINE: unique symbol = Symbol('mangled line');
/** What the flood gate passes on: a line, a line cut by the decoder, or a mangled line. */
type Input = string | { overlong: string } | typeof MANGLED_LINE;

export function refusalLine(reason: string): Buffer {
  return lineBytes(`! Connection refused: ${reason}`);
}

export function serveLine(hub: Hub, link: Link): void {
  new LineConnection(hub, link);
}

class LineConnection extends InOrder<Input> implements GateHooks<Input> {
  private readonly session: Session;
  private readonly decoder: LineDecoder;
  private readonly gate: InboundGate<Input>;
  private stage: Stage;
  /** Made once the client shows telnet traits (most connections never need one). */
  private telnet: TelnetPeer | null = null;
  /** Most bytes of text one line may say (`--max-line`, never more than `--max-message`). */
  private readonly maxText: number;
  /** Lines waiting for the answers to our telnet requests (see HOLD_MS), or null. */
  private waitingLines: Input[] | null = null;
  private holdTimer: NodeJS.Timeout | null = null;
  private heldOnce = false;
  /** The last plain line's say, while it is under way (commands wait for it). */
  private saying: Promise<void> | null = null;
  /** Where the last session with this name stopped reading (for /since), or null. */
  private seen: SeenPositions | null = null;
  /** Rooms whose "you missed" this session has said (folded names). */
  private readonly told = new Set<string>();

  constructor(
    private readonly hub: Hub,
    private readonly link: Link,
  ) {
    super();
    const opts = hub.options;
    // --ack-after-commit: output after a message waits for its commit (core/commit-order.ts).
    this.session = hub.attach(orderedByCommits(link, opts.ackAfterCommit), lineEncoder);
    // netcat cannot carry a resume token: its address gets a held name back (resume.ts).
    this.session.proof = addressProof(this.session.host);
    this.maxText = Math.min(opts.maxLineBytes, opts.maxMessageBytes);
    this.decoder = new LineDecoder(this.maxText + COMMAND_ROOM);
    this.gate = new InboundGate<Input>(
      new TokenBucket(opts.floodBurst, opts.floodRate, hub.clock),
      opts.floodQueueLines,
      this,
    );
    this.stage = opts.password !== null ? Stage.Password : Stage.Name;
    link.onData(LineConnection.data, this);
    link.onClose(LineConnection.closed, this);

    void this.greet();
  }

  /** The banner (with everyone online, on every node) and the first prompt. */
  private async greet(): Promise<void> {
    const { hub } = this;
    let online = hub.online;
    try {
      online = (await hub.presence.counts()).users;
    } catch {
      // The shared count is out of reach: this node's own will do for a greeting.
    }
    if (this.session.closed) return;
    this.say(
      `Welcome to Plugboard at ${hub.options.serverName}. ${online} ${online === 1 ? 'person' : 'people'} online.`,
    );
    this.session.send(this.stage === Stage.Password ? PASSWORD_PROMPT : NAME_PROMPT);
  }

  private say(text: string, prefix?: string): void {
    this.session.send(lineBytes(text, wrapWidth(this.session), prefix));
  }

  private peer(): TelnetPeer {
    return (this.telnet ??= new TelnetPeer(
      new TokenBucket(
        NEGOTIATION_BURST,
        this.hub.options.floodRate > 0 ? NEGOTIATION_RATE : 0,
        this.hub.clock,
      ),
    ));
  }

  /** The link's handlers, shared by every connection (Link.onData, Link.onClose). */
  private static data(chunk: Buffer, c: LineConnection): void {
    c.onData(chunk);
  }

  private static closed(reason: string, c: LineConnection): void {
    c.close(reason);
  }

  private onData(chunk: Buffer): void {
    // Closed by the server (quit, a negotiation flood): what the peer still sends is not read.
    if (this.session.closed) return;
    const items = this.decoder.push(chunk);
    for (let n = 0; n < items.length; n++) {
      const item = items[n] as LineItem;
      switch (item.kind) {
        case 'line':
        case 'overlong': {
          // A CR LF or CR NUL ending read with the line is handled before the line is
          // answered (a probe for telnet is hidden at the start of an empty line).
          const next = items[n + 1];
          if (next?.kind === 'line-end') {
            n++;
            this.sendTelnet(this.peer().lineEnd(next.ending, true));
          }
          this.pass(this.input(item.kind, item.text));
          break;
        }
        case 'line-end':
          this.sendTelnet(this.peer().lineEnd(item.ending, false));
          break;
        case 'negotiate':
          if (this.act(this.peer().negotiate(item.verb, item.option))) return;
          break;
        case 'subnegotiation':
          this.act(this.peer().subnegotiation(item.option, item.data));
          break;
        case 'command':
          this.sendTelnet(this.peer().command(item.code));
          break;
      }
    }
    // Answered (this chunk's items included): the held lines go on.
    if (this.waitingLines !== null && !(this.telnet as TelnetPeer).waiting) this.release();
  }

  /** Telnet bytes, through the session's bounded send path like every other byte. */
  private sendTelnet(data: Buffer | null): void {
    if (data === null) return;
    this.session.send(data);
    // The first time requests go out, hold lines until they are answered.
    if (!this.heldOnce && (this.telnet as TelnetPeer).waiting) {
      this.heldOnce = true;
      this.waitingLines = [];
      this.holdTimer = setTimeout(() => this.release(), HOLD_MS);
    }
  }

  private pass(input: Input): void {
    if (this.waitingLines === null) this.gate.push(input);
    else if (this.waitingLines.push(input) >= MAX_WAITING) this.release();
  }

  private release(): void {
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    const waiting = this.waitingLines;
    this.waitingLines = null;
    if (waiting !== null) for (const input of waiting) this.gate.push(input);
  }

  /** A line as the flood gate is to pass it on. */
  private input(kind: 'line' | 'overlong', text: string): Input {
    const telnet = this.telnet;
    if (telnet !== null) {
      if (telnet.binaryOutput) this.session.send(CR);
      if (telnet.lineMangled(text)) return MANGLED_LINE;
    }
    return kind === 'line' ? text : { overlong: text };
  }

  /** Carries out what the telnet peer decided; true when the connection was closed. */
  private act(a: PeerAction): boolean {
    if (a.flood) {
      this.hub.log.warn({ id: this.session.id }, 'telnet negotiation flood');
      this.say('! Too many telnet negotiation requests');
      this.close('telnet negotiation flood');
      return true;
    }
    this.sendTelnet(a.send);
    const telnet = this.telnet as TelnetPeer;
    // Later lines use the new width; what was sent already stays as it was.
    if (a.resized) setWrapWidth(this.session, telnet.width);
    if (a.terminalType) {
      this.hub.log.debug(
        { id: this.session.id, terminal: telnet.terminalType, width: telnet.width },
        'telnet terminal type',
      );
    }
    return false;
  }

  // ---- GateHooks: lines that passed flood control (run() is InOrder's) ---------------------

  pause(): void {
    this.link.pause();
  }

  resume(): void {
    this.link.resume();
  }

  protected stall(on: boolean): void {
    if (on) this.link.pause();
    else this.link.resume();
  }

  onFlood(kind: 'delayed' | 'dropped'): void {
    if (kind === 'delayed') {
      this.hub.counters.floodDelayed++;
      this.say('! Flood control: you are sending too fast; your lines are delayed');
    } else {
      this.hub.counters.floodDropped++;
      this.say('! Flood control: line dropped');
    }
  }

  protected failed(err: unknown): void {
    if (err instanceof ChatError) this.say(`! ${err.message}`);
    else {
      this.hub.counters.handlerErrors++;
      this.hub.log.error({ err, id: this.session.id }, 'line command failed');
      this.say('! Internal error');
    }
  }

  private close(reason: string): void {
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.waitingLines = null;
    this.gate.close();
    this.hub.disconnect(this.session, reason);
  }

  protected handle(input: Input): void | Promise<void> {
    const { hub, session } = this;
    if (session.closed) return;
    hub.touch(session);
    if (input === MANGLED_LINE) {
      this.say(MANGLED);
      if (this.stage !== Stage.Chat)
        session.send(this.stage === Stage.Name ? NAME_PROMPT : PASSWORD_PROMPT);
      return;
    }
    if (typeof input !== 'string') {
      // Longer than any line that can be said: refused whole in the chat; before it (a
      // password or a name) the first part is judged like any other answer.
      if (this.stage === Stage.Chat) {
        this.say(`! ${tooLong(this.maxText)}`);
        return;
      }
      input = input.overlong;
    }
    const line = stripControls(input).trim();
    switch (this.stage) {
      case Stage.Password:
        if (line === hub.options.password) {
          this.stage = Stage.Name;
          session.send(NAME_PROMPT);
        } else {
          this.say('! Wrong password');
          this.close('wrong password');
        }
        return;
      case Stage.Name:
        return this.register(line);
      case Stage.Chat:
        break;
    }
    if (line.length === 0) return;
    if (line.startsWith('/') && !line.startsWith('//')) {
      // A command sees everything said before it done (stored, delivered).
      const input = line.slice(1);
      return this.saying ? this.saying.then(() => this.command(input)) : this.command(input);
    }
    const room = session.current;
    if (!room) {
      this.say('! You are not in a room: /join ROOM first');
      return;
    }
    const text = line.startsWith('//') ? line.slice(1) : line;
    if (Buffer.byteLength(text) > this.maxText) {
      this.say(`! ${tooLong(this.maxText)}`);
      return;
    }
    // Nothing answers a plain line, so the next one need not wait for its event to come
    // back from the bus: a pasted block goes out at once, still in order (the bus keeps
    // one origin's events in order).
    const said = hub.messaging.say(session, room.name, text).then(
      () => undefined,
      (err: unknown) => this.failed(err),
    );
    this.saying = said;
    void said.then(() => {
      if (this.saying === said) this.saying = null;
    });
  }

  private async register(name: string): Promise<void> {
    const { hub, session } = this;
    try {
      await hub.setName(session, name, true);
      await hub.register(session);
    } catch (err) {
      if (!(err instanceof ChatError) || session.closed) throw err;
      this.say(`! ${name ? err.message : 'A name cannot be empty'}`);
      session.send(NAME_PROMPT);
      return;
    }
    this.stage = Stage.Chat;
    this.seen = await hub.resume.loadSeen(session.name);
    let room;
    try {
      ({ room } = await hub.join(session, hub.options.defaultRoom, undefined, true));
    } catch (err) {
      // Registered all the same: only a ban keeps someone out of the default room.
      if (!(err instanceof ChatError)) throw err;
      this.say(`* Welcome, ${session.name}! ${err.message}. Type /help for commands.`);
      hub.welcomed(session);
      return;
    }
    const others = room.size - 1;
    this.say(
      `* Welcome, ${session.name}! You are in ${room.name} with ${others} other${others === 1 ? '' : 's'}. ` +
        'Type /help for commands.',
    );
    for (const line of hub.options.motd) this.say(`* ${line}`);
    if (room.topic) this.say(`* Topic: ${room.topic}`);
    hub.welcomed(session);
    // Back under the same name: the last lines they saw, for context, then what they
    // missed is announced (and /since shows it) rather than half of it shown here.
    const after = positionIn(this.seen, room.name);
    await this.replayHistory(
      room.name,
      hub.options.historyOnJoin,
      after === undefined ? undefined : (BigInt(after) + 1n).toString(),
    );
    await this.tellMissed(room.name);
  }

  /** `* You missed 42 messages in #lobby since 10:14 — /since to read them`, if any. */
  private async tellMissed(room: string): Promise<void> {
    const seen = this.seen;
    const after = positionIn(seen, room);
    // Once per room: after this session has been in it, the count would include what it saw.
    if (!seen || after === undefined || this.told.has(fold(room))) return;
    this.told.add(fold(room));
    const n = await this.hub.resume.missedSince(this.session, room, after);
    if (n === 0 || this.session.closed) return;
    this.say(
      `* You missed ${n} message${n === 1 ? '' : 's'} in ${room} since ${clock(seen.at)} — /since to read them`,
    );
  }

  /** `/since`: what a room said between this name's last visit and this session's join. */
  private async since(room: string): Promise<void> {
    const { hub, session } = this;
    const seen = this.seen;
    const after = positionIn(seen, room);
    if (!seen || after === undefined) {
      this.say(
        `* No record of where you stopped reading in ${room}; /history shows its last messages`,
      );
      return;
    }
    const r = await hub.resume.replay(session, room, after, hub.options.resumeLimit);
    const when = clock(seen.at);
    if (r.missed === 0) {
      this.say(`* Nothing was said in ${r.room} while you were away (since ${when})`);
      return;
    }
    const count = `${r.missed} message${r.missed === 1 ? '' : 's'}`;
    const older = r.truncated ? ' (some older ones are no longer kept)' : '';
    this.say(
      r.messages.length < r.missed
        ? `* ${count} in ${r.room} since ${when}${older}; the last ${r.messages.length}:`
        : `* ${count} in ${r.room} since ${when}${older}:`,
    );
    await sendPaced(
      session,
      historyLines(r.messages, wrapWidth(session)),
      hub.options.sendQueueBytes,
    );
  }

  private async replayHistory(room: string, limit: number, before?: string): Promise<void> {
    if (limit <= 0) return;
    const entries = await this.hub.messaging.history(this.session, room, limit, before);
    if (entries.length === 0 || this.session.closed) return;
    this.say(`* Last ${entries.length} message${entries.length === 1 ? '' : 's'} in ${room}:`);
    // Paced against this server's send limit: against the pacer's default (256 KiB) a
    // smaller --send-queue was overrun by the reply itself and its reader evicted. Lines
    // are made as they go out: made all at once, a reader that never reads kept two
    // copies of the page (strings and bytes) alive for as long as it did not read.
    await sendPaced(
      this.session,
      historyLines(entries, wrapWidth(this.session)),
      this.hub.options.sendQueueBytes,
    );
  }

  private sendLines(lines: Iterable<OutLine>): Promise<void> {
    const width = wrapWidth(this.session);
    return sendPaced(
      this.session,
      (function* () {
        for (const l of lines) yield lineBytes(l.text, width, l.prefix);
      })(),
      this.hub.options.sendQueueBytes,
    );
  }

  private command(input: string): void | Promise<void> {
    const space = input.indexOf(' ');
    const name = (space < 0 ? input : input.slice(0, space)).toLowerCase();
    const argText = space < 0 ? '' : input.slice(space + 1).trim();
    const cmd = commandsByName.get(name);
    if (!cmd) {
      this.say(`! Unknown command /${name}. Type /help for the list.`);
      return;
    }
    const argv = argText ? argText.split(/\s+/) : [];
    if (argv.length < cmd.minArgs) {
      this.say(`! usage: ${cmd.usage}`);
      return;
    }
    const ctx: CommandContext = {
      hub: this.hub,
      session: this.session,
      argv,
      maxText: this.maxText,
      rest: (n) => restFrom(argText, n),
      reply: (text) => this.say(text),
      close: (reason) => this.close(reason),
      replayHistory: (room, limit) => this.replayHistory(room, limit),
      sendLines: (lines) => this.sendLines(lines),
      since: (room) => this.since(room),
      tellMissed: (room) => this.tellMissed(room),
    };
    return cmd.run(ctx);
  }
}

function* historyLines(
  entries: Iterable<Parameters<typeof formatHistory>[0]>,
  width: number,
): Generator<Buffer> {
  for (const e of entries) {
    const line = formatHistory(e);
    yield lineBytes(line.text, width, line.prefix);
  }
}

/** Everything from the n-th space-separated argument on, keeping inner spacing. */
function restFrom(text: string, n: number): string {
  let rest = text;
  for (let i = 0; i < n; i++) {
    const m = /^\S+\s*/.exec(rest);
    if (!m) return '';
    rest = rest.slice(m[0].length);
  }
  return rest;
}
