/**
 * One IRC connection: bytes → lines (codec) → flood gate → command table → handlers.
 * Commands run one at a time in arrival order, even when one awaits the store. A keepalive
 * PING goes out after `pingIntervalMs` of silence; no input within `pingTimeoutMs` after
 * it closes the connection (modern.ircdocs.horse "PING message").
 */
import { ChatError } from '../../core/errors.js';
import { TokenBucket } from '../../core/flood.js';
import type { Hub } from '../../core/hub.js';
import { InboundGate } from '../../core/inbound-gate.js';
import type { Encoder, Link } from '../../core/ports.js';
import { Cap } from './caps.js';
import { IrcClient } from './client.js';
import { LineSplitter, parse, type SplitItem } from './codec.js';
import { commandTable } from './commands.js';
import { createIrcEncoder } from './encoder.js';
import { replyError } from './errors.js';
import { ERR } from './numerics.js';
import { newState } from './state.js';

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
  const opts = hub.options;
  const state = newState(hub.clock.now());
  const client = new IrcClient(hub, link, state);
  const session = hub.attach(client, encoderFor(hub));
  session.proto = state;
  client.session = session;
  const splitter = new LineSplitter();
  let running: Promise<void> = Promise.resolve();
  let pingTimer: NodeJS.Timeout | null = null;

  const gate = new InboundGate<SplitItem>(
    new TokenBucket(opts.floodBurst, opts.floodRate, hub.clock),
    opts.floodQueueLines,
    {
      run: (item) => {
        running = running.then(() => handle(item)).catch((err: unknown) => internal(err));
      },
      pause: () => link.pause(),
      resume: () => link.resume(),
      onFlood: (kind) => {
        // Delays are invisible, as with IRC servers' fakelag; a client that keeps
        // flooding past the queue is disconnected the way ircds do it.
        if (kind === 'delayed') hub.counters.floodDelayed++;
        else {
          hub.counters.floodDropped++;
          close('Excess Flood');
        }
      },
    },
  );

  const close = (reason: string): void => {
    gate.close();
    if (pingTimer) clearTimeout(pingTimer);
    pingTimer = null;
    hub.disconnect(session, reason);
  };
  client.close = close;

  const internal = (err: unknown): void => {
    hub.log.error({ err, id: session.id }, 'irc command failed');
    client.fromServer('NOTICE', client.nick, 'Internal error');
  };

  const handle = async (item: SplitItem): Promise<void> => {
    if (session.closed) return;
    const now = hub.clock.now();
    state.lastInput = now;
    state.pingSent = 0;
    hub.touch(session);
    if (item.kind === 'toolong') {
      client.reply(ERR.INPUTTOOLONG, 'Input line was too long');
      return;
    }
    const m = parse(item.line);
    if (!m) return;
    const name = m.command.toUpperCase();
    const label = m.tags.label;
    const labeled = label !== undefined && label !== '' && client.has(Cap.LabeledResponse);
    if (labeled) client.beginLabel();
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
        await cmd.run(client, m);
      }
    } catch (err) {
      if (err instanceof ChatError) replyError(client, err, { command: name });
      else internal(err);
    } finally {
      if (labeled) client.endLabel(label);
    }
  };

  const keepalive = (): void => {
    pingTimer = null;
    if (session.closed) return;
    const now = hub.clock.now();
    let wait: number;
    if (state.pingSent > 0) {
      if (now - state.pingSent >= opts.pingTimeoutMs) {
        close(`Ping timeout: ${Math.round((now - state.lastInput) / 1000)} seconds`);
        return;
      }
      wait = opts.pingTimeoutMs - (now - state.pingSent);
    } else {
      const idle = now - state.lastInput;
      if (idle < opts.pingIntervalMs) wait = opts.pingIntervalMs - idle;
      else if (!session.registered)
        wait = opts.pingIntervalMs; // the hub's registration timeout rules
      else {
        state.pingSent = now;
        client.sendLine(`PING :${opts.serverName}`);
        wait = opts.pingTimeoutMs;
      }
    }
    pingTimer = setTimeout(keepalive, Math.max(wait, 50));
    pingTimer.unref();
  };
  if (opts.pingIntervalMs > 0) {
    pingTimer = setTimeout(keepalive, opts.pingIntervalMs);
    pingTimer.unref();
  }

  link.onData((chunk) => {
    for (const item of splitter.push(chunk)) gate.push(item);
  });
  link.onClose((reason) => close(reason));
}
