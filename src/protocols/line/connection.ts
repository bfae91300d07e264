/**
 * One telnet/netcat connection: banner, (password), name prompt, then lines and slash
 * commands. Input passes the flood gate before anything else sees it.
 *
 * A class rather than a nest of closures: tens of thousands of these stay alive at once,
 * and methods on a prototype cost nothing per connection.
 */
import { ChatError } from '../../core/errors.js';
import type { Hub } from '../../core/hub.js';
import { InboundGate, type GateHooks } from '../../core/inbound-gate.js';
import { InOrder } from '../../core/in-order.js';
import { TokenBucket } from '../../core/flood.js';
import type { Link } from '../../core/ports.js';
import type { Session } from '../../core/session.js';
import { sendPaced } from '../../core/pacer.js';
import { stripControls } from '../../core/text.js';
import { commandsByName, formatHistory, type CommandContext } from './commands.js';
import { LineDecoder } from './decoder.js';
import { lineBytes, lineEncoder } from './encoder.js';

const enum Stage {
  Password,
  Name,
  Chat,
}

const NAME_PROMPT = Buffer.from('Choose a name: ');
const PASSWORD_PROMPT = Buffer.from('Server password: ');

export function refusalLine(reason: string): Buffer {
  return lineBytes(`! Connection refused: ${reason}`);
}

export function serveLine(hub: Hub, link: Link): void {
  new LineConnection(hub, link);
}

class LineConnection extends InOrder<string> implements GateHooks<string> {
  private readonly session: Session;
  private readonly decoder: LineDecoder;
  private readonly gate: InboundGate<string>;
  private stage: Stage;
  /** The last plain line's say, while it is under way (commands wait for it). */
  private saying: Promise<void> | null = null;

  constructor(
    private readonly hub: Hub,
    private readonly link: Link,
  ) {
    super();
    const opts = hub.options;
    this.session = hub.attach(link, lineEncoder);
    this.decoder = new LineDecoder(opts.maxLineBytes);
    this.gate = new InboundGate<string>(
      new TokenBucket(opts.floodBurst, opts.floodRate, hub.clock),
      opts.floodQueueLines,
      this,
    );
    this.stage = opts.password !== null ? Stage.Password : Stage.Name;
    link.onData((chunk) => this.onData(chunk));
    link.onClose((reason) => this.close(reason));

    const online = hub.online;
    this.say(
      `Welcome to Plugboard at ${opts.serverName}. ${online} ${online === 1 ? 'person' : 'people'} online.`,
    );
    this.session.send(this.stage === Stage.Password ? PASSWORD_PROMPT : NAME_PROMPT);
  }

  private say(text: string): void {
    this.session.send(lineBytes(text));
  }

  private onData(chunk: Buffer): void {
    for (const item of this.decoder.push(chunk)) {
      if (item.kind === 'telnet') {
        // Through the session's bounded queue like every other byte.
        this.session.send(item.reply);
        continue;
      }
      if (item.kind === 'overlong') {
        this.say(
          `! Line too long (at most ${this.hub.options.maxLineBytes} bytes); the rest was discarded`,
        );
      }
      this.gate.push(item.text);
    }
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
    this.gate.close();
    this.hub.disconnect(this.session, reason);
  }

  protected handle(raw: string): void | Promise<void> {
    const { hub, session } = this;
    if (session.closed) return;
    hub.touch(session);
    const line = stripControls(raw).trim();
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
    // Nothing answers a plain line, so the next one need not wait for its event to come
    // back from the bus: a pasted block goes out at once, still in order (the bus keeps
    // one origin's events in order).
    const said = hub.messaging
      .say(session, room.name, line.startsWith('//') ? line.slice(1) : line)
      .then(
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
    return this.replayHistory(room.name, hub.options.historyOnJoin);
  }

  private async replayHistory(room: string, limit: number): Promise<void> {
    if (limit <= 0) return;
    const entries = await this.hub.messaging.history(this.session, room, limit);
    if (entries.length === 0 || this.session.closed) return;
    this.say(`* Last ${entries.length} message${entries.length === 1 ? '' : 's'} in ${room}:`);
    await sendPaced(
      this.session,
      entries.map((e) => lineBytes(formatHistory(e))),
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
      rest: (n) => restFrom(argText, n),
      reply: (text) => this.say(text),
      close: (reason) => this.close(reason),
      replayHistory: (room, limit) => this.replayHistory(room, limit),
    };
    return cmd.run(ctx);
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
