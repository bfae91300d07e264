/**
 * One IRC connection: bytes → lines (codec) → flood gate → command table → handlers.
 * Commands run one at a time in arrival order, even when one awaits the store. A keepalive
 * PING goes out after `pingIntervalMs` of silence; no input within `pingTimeoutMs` after
 * it closes the connection (modern.ircdocs.horse "PING message").
 */
import { ChatError } from '../../core/errors.js';
import { TokenBucket } from '../../core/flood.js';
import type { Hub } from '../../core/hub.js';
import { InboundGate, type GateHooks } from '../../core/inbound-gate.js';
import { orderedByCommits } from '../../core/commit-order.js';
import { InOrder } from '../../core/in-order.js';
import type { Encoder, Link } from '../../core/ports.js';
import { Cap } from './caps.js';
import { IrcClient } from './client.js';
import { LineSplitter, parse, type SplitItem } from './codec.js';
import { commandTable } from './commands.js';
import { createIrcEncoder } from './encoder.js';
import { replyError } from './errors.js';
import { ERR } from './numerics.js';
import { newState, type IrcState } from './state.js';
import type { Session } from '../../core/session.js';

/** One encoder per hub, so every IRC session shares its variant cache keys. */
const encoders = new WeakMap<Hub, Encoder>();

function encoderFor(hub: Hub): Encoder {
  let e = encoders.get(hub);
  if (!e) {
    e = createIrcEncoder(hub.options.serverName);
    encoders.set(hub, e);
  }
  return e;
}

/** What a refused connection reads before the server hangs up. */
export function ircRefusal(reason: string): Buffer {
  return Buffer.from(`ERROR :Closing link: [${reason}]\r\n`);
}

export function serveIrc(hub: Hub, link: Link): void {
  new IrcConnection(hub, link);
}

/**
 * A class rather than a nest of closures: tens of thousands of these stay alive at once,
 * and methods on a prototype cost nothing per connection. The keepalive runs from the
 * hub's once-a-second sweep (`tick`), not from a timer per connection.
 */
class IrcConnection extends InOrder<SplitItem> implements GateHooks<SplitItem> {
  private readonly state: IrcState;
  private readonly client: IrcClient;
  private readonly session: Session;
  private readonly splitter = new LineSplitter();
  private readonly gate: InboundGate<SplitItem>;

  constructor(
    private readonly hub: Hub,
    private readonly link: Link,
  ) {
    super();
    const opts = hub.options;
    this.state = newState(hub.clock.now());
    // --ack-after-commit: output after a message waits for its commit (core/commit-order.ts).
    this.client = new IrcClient(hub, orderedByCommits(link, opts.ackAfterCommit), this.state);
    this.session = hub.attach(this.client, encoderFor(hub));
    // An IRC client cannot carry a resume token: its address gets a held nick back.
    this.session.proof = { address: this.session.host };
    this.session.proto = this.state;
    this.client.session = this.session;
    this.client.owner = this;
    this.gate = new InboundGate<SplitItem>(
      new TokenBucket(opts.floodBurst, opts.floodRate, hub.clock),
      opts.floodQueueLines,
      this,
    );
    link.onData((chunk) => this.onData(chunk));
    link.onClose((reason) => this.close(reason));
  }

  private onData(chunk: Buffer): void {
    for (const item of this.splitter.push(chunk)) this.gate.push(item);
  }

  // ---- GateHooks: lines that passed flood control ----------------------------------------

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
    // Delays are invisible, as with IRC servers' fakelag; a client that keeps flooding
    // past the queue is disconnected the way ircds do it.
    if (kind === 'delayed') this.hub.counters.floodDelayed++;
    else {
      this.hub.counters.floodDropped++;
      this.close('Excess Flood');
    }
  }

  close(reason: string): void {
    this.gate.close();
    this.hub.disconnect(this.session, reason);
  }

  /** What escaped handle(): not a chat error (those are answered there), a bug. */
  protected failed(err: unknown): void {
    this.internal(err);
  }

  private internal(err: unknown): void {
    this.hub.counters.handlerErrors++;
    this.hub.log.error({ err, id: this.session.id }, 'irc command failed');
    this.client.fromServer('NOTICE', this.client.nick, 'Internal error');
  }

  /** Returns a promise only when the command awaits something (the store, SASL). */
  protected handle(item: SplitItem): Promise<void> | undefined {
    const { hub, session, client, state } = this;
    if (session.closed) return undefined;
    state.lastInput = hub.clock.now();
    state.pingSent = 0;
    hub.touch(session);
    if (item.kind === 'toolong') {
      client.reply(ERR.INPUTTOOLONG, 'Input line was too long');
      return undefined;
    }
    const m = parse(item.line);
    if (!m) return undefined;
    const name = m.command.toUpperCase();
    const label = m.tags.label;
    const labeled = label !== undefined && label !== '' && client.has(Cap.LabeledResponse);
    if (labeled) client.beginLabel();
    let result: void | Promise<void> = undefined;
    try {
      const cmd = commandTable.get(name);
      if (!cmd) {
        if (session.registered) client.reply(ERR.UNKNOWNCOMMAND, m.command, 'Unknown command');
        else client.reply(ERR.NOTREGISTERED, 'You have not registered');
      } else if (!session.registered && !cmd.preRegistration) {
        client.reply(ERR.NOTREGISTERED, 'You have not registered');
      } else if (m.params.length < cmd.minParams) {
        client.reply(ERR.NEEDMOREPARAMS, name, 'Not enough parameters');
      } else {
        result = cmd.run(client, m);
      }
    } catch (err) {
      this.answer(err, name);
    }
    if (result instanceof Promise) {
      return result
        .catch((err: unknown) => this.answer(err, name))
        .finally(() => {
          if (labeled) client.endLabel(label);
        });
    }
    if (labeled) client.endLabel(label);
    return undefined;
  }

  /** A command's failure: chat errors get their numeric, anything else is a bug. */
  private answer(err: unknown, command: string): void {
    if (err instanceof ChatError) replyError(this.client, err, { command });
    else this.internal(err);
  }

  /** Keepalive (modern.ircdocs.horse "PING message"), from the hub's sweep. */
  tick(now: number): void {
    const { hub, session, state } = this;
    const opts = hub.options;
    if (session.closed || opts.pingIntervalMs <= 0) return;
    if (state.pingSent > 0) {
      if (now - state.pingSent >= opts.pingTimeoutMs) {
        this.close(`Ping timeout: ${Math.round((now - state.lastInput) / 1000)} seconds`);
      }
      return;
    }
    // Before registration the hub's registration timeout rules.
    if (session.registered && now - state.lastInput >= opts.pingIntervalMs) {
      state.pingSent = now;
      this.client.sendLine(`PING :${opts.serverName}`);
    }
  }
}
