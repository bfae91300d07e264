/**
 * One telnet/netcat connection: banner, (password), name prompt, then lines and slash
 * commands. Input passes the flood gate before anything else sees it.
 */
import { ChatError } from '../../core/errors.js';
import type { Hub } from '../../core/hub.js';
import { InboundGate } from '../../core/inbound-gate.js';
import { TokenBucket } from '../../core/flood.js';
import type { Link } from '../../core/ports.js';
import { commandsByName, formatHistory, type CommandContext } from './commands.js';
import { LineDecoder } from './decoder.js';
import { lineBytes, lineEncoder } from './encoder.js';
import { stripControls } from '../../core/text.js';

type Stage = 'password' | 'name' | 'chat';

export function refusalLine(reason: string): Buffer {
  return lineBytes(`! Connection refused: ${reason}`);
}

export function serveLine(hub: Hub, link: Link): void {
  const session = hub.attach(link, lineEncoder);
  const opts = hub.options;
  const decoder = new LineDecoder(opts.maxLineBytes);
  let stage: Stage = opts.password !== null ? 'password' : 'name';
  // Lines run one at a time, in order, even when a command awaits the store.
  let running: Promise<void> = Promise.resolve();

  const say = (text: string): void => hub.send(session, lineBytes(text));
  const prompt = (text: string): void => hub.send(session, Buffer.from(text));

  const gate = new InboundGate<string>(
    new TokenBucket(opts.floodBurst, opts.floodRate, hub.clock),
    opts.floodQueueLines,
    {
      run: (line) => {
        running = running.then(() => handle(line)).catch((err: unknown) => fail(err));
      },
      pause: () => link.pause(),
      resume: () => link.resume(),
      onFlood: (kind) => {
        if (kind === 'delayed') {
          hub.counters.floodDelayed++;
          say('! Flood control: you are sending too fast; your lines are delayed');
        } else {
          hub.counters.floodDropped++;
          say('! Flood control: line dropped');
        }
      },
    },
  );

  const fail = (err: unknown): void => {
    if (err instanceof ChatError) say(`! ${err.message}`);
    else {
      hub.log.error({ err, id: session.id }, 'line command failed');
      say('! Internal error');
    }
  };

  const close = (reason: string): void => {
    gate.close();
    hub.disconnect(session, reason);
  };

  const replayHistory = async (room: string, limit: number): Promise<void> => {
    if (limit <= 0) return;
    const entries = await hub.history(room, limit);
    if (entries.length === 0) return;
    say(`* Last ${entries.length} message${entries.length === 1 ? '' : 's'} in ${room}:`);
    for (const e of entries) say(formatHistory(e));
  };

  const register = async (name: string): Promise<void> => {
    hub.setName(session, name);
    hub.register(session);
    stage = 'chat';
    const { room } = hub.join(session, opts.defaultRoom);
    const others = room.members.size - 1;
    say(
      `* Welcome, ${session.name}! You are in ${room.name} with ${others} other${others === 1 ? '' : 's'}. ` +
        'Type /help for commands.',
    );
    if (room.topic) say(`* Topic: ${room.topic}`);
    await replayHistory(room.name, opts.historyOnJoin);
  };

  const handle = async (raw: string): Promise<void> => {
    if (session.closed) return;
    hub.touch(session);
    const line = stripControls(raw).trim();
    if (stage === 'password') {
      if (line === opts.password) {
        stage = 'name';
        prompt('Choose a name: ');
      } else {
        say('! Wrong password');
        close('wrong password');
      }
      return;
    }
    if (stage === 'name') {
      try {
        await register(line);
      } catch (err) {
        if (!(err instanceof ChatError)) throw err;
        say(`! ${line ? err.message : 'A name cannot be empty'}`);
        prompt('Choose a name: ');
      }
      return;
    }
    if (line.length === 0) return;
    if (line.startsWith('/') && !line.startsWith('//')) {
      await command(line.slice(1));
      return;
    }
    const text = line.startsWith('//') ? line.slice(1) : line;
    const room = session.current;
    if (!room) {
      say('! You are not in a room: /join ROOM first');
      return;
    }
    hub.say(session, room.name, text);
  };

  const command = async (input: string): Promise<void> => {
    const space = input.indexOf(' ');
    const name = (space < 0 ? input : input.slice(0, space)).toLowerCase();
    const argText = space < 0 ? '' : input.slice(space + 1).trim();
    const cmd = commandsByName.get(name);
    if (!cmd) {
      say(`! Unknown command /${name}. Type /help for the list.`);
      return;
    }
    const argv = argText ? argText.split(/\s+/) : [];
    if (argv.length < cmd.minArgs) {
      say(`! usage: ${cmd.usage}`);
      return;
    }
    const ctx: CommandContext = {
      hub,
      session,
      argv,
      rest: (n) => restFrom(argText, n),
      reply: say,
      close,
      replayHistory,
    };
    await cmd.run(ctx);
  };

  link.onData((chunk) => {
    for (const item of decoder.push(chunk)) {
      if (item.kind === 'telnet') {
        link.write(item.reply);
      } else {
        if (item.kind === 'overlong') {
          say(`! Line too long (at most ${opts.maxLineBytes} bytes); the rest was discarded`);
        }
        gate.push(item.text);
      }
    }
  });
  link.onClose((reason) => {
    gate.close();
    hub.disconnect(session, reason);
  });

  const online = hub.online;
  say(
    `Welcome to Plugboard at ${opts.serverName}. ${online} ${online === 1 ? 'person' : 'people'} online.`,
  );
  if (stage === 'password') prompt('Server password: ');
  else prompt('Choose a name: ');
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
