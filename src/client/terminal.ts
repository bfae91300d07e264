/**
 * `plugboard connect [HOST[:PORT]] --name NAME`: the terminal client. Reads the keyboard
 * and the socket at once: incoming lines are printed above the prompt without disturbing
 * what is being typed. Without a terminal (a pipe) every stdin line is sent and every event
 * printed as one line, so it can be scripted.
 */
import { appendFileSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { ServerMessage } from '../protocols/json/schema.js';
import { FramedClient, RequestError, type Request } from './framed-client.js';
import { colorName, formatEvent } from './format.js';

const HELP = `Usage: plugboard connect [HOST[:PORT]] --name NAME [options]

Connects to a Plugboard server's framed protocol (default 127.0.0.1:8009).

Options:
  --name NAME        the name to use (required)
  --password SECRET  server connection password
  --timeout MS       connect timeout (default 2000)
  --no-color         no colours (also off when stdout is not a terminal)
  --no-reconnect     exit when the server goes away instead of reconnecting
  --log FILE         append a transcript of everything received
  --json             pipe mode: print raw events as JSON lines
  --once             pipe mode: exit once every line sent was acknowledged
  --help             show this help

Commands: ${'/help /nick /join /part /switch /rooms /who /msg /me /topic /away /history /quit'}
`;

const COMMANDS = [
  '/help',
  '/nick',
  '/join',
  '/part',
  '/switch',
  '/rooms',
  '/who',
  '/msg',
  '/me',
  '/topic',
  '/away',
  '/history',
  '/quit',
];

function parseTarget(target: string | undefined): { host: string; port: number } {
  if (!target) return { host: '127.0.0.1', port: 8009 };
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(target);
  if (!m) throw new Error(`Cannot read HOST[:PORT] from "${target}"`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port: m[3] ? Number(m[3]) : 8009 };
}

export async function connectMain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      password: { type: 'string' },
      timeout: { type: 'string', default: '2000' },
      'no-color': { type: 'boolean', default: false },
      'no-reconnect': { type: 'boolean', default: false },
      log: { type: 'string' },
      json: { type: 'boolean', default: false },
      once: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.name) {
    process.stderr.write('plugboard connect: --name NAME is required\n');
    return 2;
  }
  // `plugboard connect … | head` closes our stdout early: that is an ordinary way to stop.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  const { host, port } = parseTarget(positionals[0]);
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const session = new TerminalSession({
    host,
    port,
    name: values.name,
    password: values.password,
    timeoutMs: Number(values.timeout),
    color: tty && !values['no-color'],
    reconnect: !values['no-reconnect'] && !values.once,
    log: values.log,
    json: values.json,
    once: values.once,
    tty,
  });
  return session.run();
}

interface Options {
  host: string;
  port: number;
  name: string;
  password: string | undefined;
  timeoutMs: number;
  color: boolean;
  reconnect: boolean;
  log: string | undefined;
  json: boolean;
  once: boolean;
  tty: boolean;
}

class TerminalSession {
  private client: FramedClient | null = null;
  private rl: Interface | null = null;
  private name: string;
  private current = '#lobby';
  private readonly rooms = new Set<string>();
  private readonly members = new Map<string, Set<string>>();
  private quitting = false;
  private finished!: (code: number) => void;

  constructor(private readonly o: Options) {
    this.name = o.name;
  }

  run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.finished = resolve));
    for (const sig of ['SIGTERM', 'SIGHUP'] as const)
      process.on(sig, () => void this.quit('leaving'));
    process.on('SIGINT', () => void this.quit('leaving'));
    void this.start();
    return done;
  }

  private async start(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      process.stderr.write(
        `Unable to connect to ${this.o.host}:${this.o.port}: ${(err as Error).message}\n`,
      );
      this.finish(1);
      return;
    }
    this.openInput();
  }

  private async connect(): Promise<void> {
    const client = await FramedClient.connect(this.o.host, this.o.port, this.o.timeoutMs);
    this.client = client;
    client.on('event', (msg: ServerMessage) => this.onEvent(msg));
    client.on('close', () => this.onClose());
    const hello: Request = { type: 'hello', name: this.name, client: 'plugboard-connect' };
    if (this.o.password) hello.password = this.o.password;
    try {
      await client.request(hello);
    } catch (err) {
      if (err instanceof RequestError && err.code === 'name_in_use') {
        // Keep going under a variant rather than fail: the person can /nick back later.
        this.name = `${this.name}_`;
        await client.request({ ...hello, name: this.name });
      } else throw err;
    }
    for (const room of [...this.rooms]) {
      if (room !== '#lobby') await client.request({ type: 'join', room }).catch(() => {});
    }
  }

  private openInput(): void {
    if (this.rl) return;
    const rl = createInterface({
      input: process.stdin,
      output: this.o.tty ? process.stdout : undefined,
      terminal: this.o.tty,
      historySize: 500,
      completer: (line: string) => this.complete(line),
    });
    this.rl = rl;
    rl.on('line', (line) => void this.onLine(line));
    rl.on('SIGINT', () => void this.quit('leaving'));
    rl.on('close', () => {
      if (!this.o.tty) void this.endOfInput();
    });
    this.prompt();
  }

  private complete(line: string): [string[], string] {
    const word = line.split(' ').pop() ?? '';
    const pool =
      line.includes(' ') || !line.startsWith('/')
        ? [...(this.members.get(this.current.toLowerCase()) ?? [])]
        : COMMANDS;
    const hits = pool.filter((c) => c.toLowerCase().startsWith(word.toLowerCase()));
    return [hits, word];
  }

  private prompt(): void {
    if (!this.o.tty || !this.rl) return;
    this.rl.setPrompt(`[${this.name}@${this.current}]> `);
    this.rl.prompt(true);
  }

  /** Prints above the prompt, keeping what the person is typing. */
  private print(text: string): void {
    if (this.o.log) appendFileSync(this.o.log, `${new Date().toISOString()} ${text}\n`);
    if (this.o.tty && this.rl) {
      process.stdout.write(`\r\x1b[K${text}\n`);
      this.rl.prompt(true);
    } else {
      process.stdout.write(`${text}\n`);
    }
  }

  private onEvent(msg: ServerMessage): void {
    this.track(msg);
    if (this.o.json) {
      if (this.o.log)
        appendFileSync(this.o.log, `${new Date().toISOString()} ${JSON.stringify(msg)}\n`);
      process.stdout.write(JSON.stringify(msg) + '\n');
      return;
    }
    if (msg.type === 'ok' || msg.type === 'pong') return;
    const paint = this.o.color ? colorName : (n: string) => n;
    for (const line of formatEvent(msg, { me: this.name, current: this.current, paint }))
      this.print(line);
  }

  /** Keeps rooms and members current, for the prompt, rejoining and Tab completion. */
  private track(msg: ServerMessage): void {
    switch (msg.type) {
      case 'welcome':
        this.name = msg.name;
        this.prompt();
        break;
      case 'joined':
        if (msg.name === this.name) {
          this.rooms.add(msg.room);
          this.current = msg.room;
          if (msg.members)
            this.members.set(msg.room.toLowerCase(), new Set(msg.members.map((m) => m.name)));
          this.prompt();
        } else this.members.get(msg.room.toLowerCase())?.add(msg.name);
        break;
      case 'left':
        if (msg.name === this.name) {
          this.rooms.delete(msg.room);
          this.members.delete(msg.room.toLowerCase());
          if (this.current === msg.room) this.current = [...this.rooms][0] ?? '(no room)';
          this.prompt();
        } else this.members.get(msg.room.toLowerCase())?.delete(msg.name);
        break;
      case 'quit':
        for (const set of this.members.values()) set.delete(msg.name);
        break;
      case 'nick':
        for (const set of this.members.values()) {
          if (set.delete(msg.old)) set.add(msg.name);
        }
        if (msg.old === this.name) {
          this.name = msg.name;
          this.prompt();
        }
        break;
      case 'who':
        this.members.set(msg.room.toLowerCase(), new Set(msg.members.map((m) => m.name)));
        break;
      default:
    }
  }

  private async onLine(raw: string): Promise<void> {
    const line = raw.trim();
    if (!line) return this.prompt();
    const client = this.client;
    if (!client || client.closed) {
      this.print('! Not connected; your line was not sent');
      return;
    }
    try {
      await this.execute(client, line);
    } catch (err) {
      this.print(`! ${(err as Error).message}`);
    }
    this.prompt();
  }

  private async execute(client: FramedClient, line: string): Promise<void> {
    if (!line.startsWith('/') || line.startsWith('//')) {
      await client.request({
        type: 'say',
        room: this.current,
        text: line.startsWith('//') ? line.slice(1) : line,
      });
      return;
    }
    const [cmd = '', ...args] = line.slice(1).split(/\s+/);
    const rest = (n: number) =>
      line
        .slice(1)
        .split(/\s+/)
        .slice(n + 1)
        .join(' ');
    const room = (arg: string | undefined) =>
      arg ? (arg.startsWith('#') ? arg : `#${arg}`) : this.current;
    const usage = (u: string) => {
      throw new Error(`usage: ${u}`);
    };
    switch (cmd.toLowerCase()) {
      case 'help':
        this.print(`* Commands: ${COMMANDS.join(' ')}; plain text goes to ${this.current}`);
        return;
      case 'nick':
        if (!args[0]) usage('/nick NAME');
        await client.request({ type: 'nick', name: args[0] });
        return;
      case 'join':
        if (!args[0]) usage('/join ROOM [KEY]');
        await client.request({
          type: 'join',
          room: room(args[0]),
          ...(args[1] ? { key: args[1] } : {}),
        });
        return;
      case 'part':
        await client.request({ type: 'part', room: room(args[0]), reason: rest(1) });
        return;
      case 'switch':
        if (!args[0] || !this.rooms.has(room(args[0]))) usage('/switch ROOM (one of your rooms)');
        this.current = room(args[0]);
        this.print(`* Your current room is now ${this.current}`);
        return;
      case 'rooms':
        await client.request({ type: 'rooms' });
        return;
      case 'who':
        await client.request({ type: 'who', room: room(args[0]) });
        return;
      case 'msg':
        if (args.length < 2) usage('/msg NAME TEXT');
        await client.request({ type: 'dm', to: args[0], text: rest(1) });
        return;
      case 'me':
        if (!args[0]) usage('/me ACTION');
        await client.request({ type: 'me', room: this.current, text: rest(0) });
        return;
      case 'topic':
        await client.request({
          type: 'topic',
          room: this.current,
          ...(args[0] ? { topic: rest(0) } : {}),
        });
        return;
      case 'away':
        await client.request({ type: 'away', ...(args[0] ? { text: rest(0) } : {}) });
        this.print(
          args[0] ? `* You are marked away: ${rest(0)}` : '* You are no longer marked away',
        );
        return;
      case 'history': {
        const n = args[0] ? Number(args[0]) : 20;
        if (!Number.isInteger(n) || n < 1 || n > 500) usage('/history [N] (1-500)');
        await client.request({ type: 'history', room: this.current, limit: n });
        return;
      }
      case 'quit':
        await this.quit(rest(0) || 'leaving');
        return;
      default:
        throw new Error(`Unknown command /${cmd}. Type /help for the list.`);
    }
  }

  private async endOfInput(): Promise<void> {
    // Pipe mode: wait for every request to be acknowledged, then leave (or keep listening).
    const client = this.client;
    while (client && client.waiting > 0 && !client.closed)
      await new Promise((r) => setTimeout(r, 10));
    if (this.o.once) await this.quit('done');
  }

  private onClose(): void {
    if (this.quitting) return;
    this.print('Disconnected from server');
    if (!this.o.reconnect) {
      this.finish(1);
      return;
    }
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    let delay = 500;
    for (;;) {
      await new Promise((r) => setTimeout(r, delay));
      if (this.quitting) return;
      try {
        await this.connect();
        this.print(`* Reconnected to ${this.o.host}:${this.o.port}`);
        this.prompt();
        return;
      } catch (err) {
        this.print(
          `* Reconnecting in ${Math.min(delay * 2, 10_000) / 1000} s (${(err as Error).message})`,
        );
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  private async quit(reason: string): Promise<void> {
    if (this.quitting) return;
    this.quitting = true;
    const client = this.client;
    if (client && !client.closed) {
      client.send({ type: 'quit', reason });
      await Promise.race([
        new Promise((r) => client.once('close', r)),
        new Promise((r) => setTimeout(r, 500)),
      ]);
      client.close();
    }
    this.finish(0);
  }

  private finish(code: number): void {
    // Restores the terminal (readline leaves raw mode on close).
    this.rl?.close();
    if (this.o.tty) process.stdout.write('\n');
    this.finished(code);
  }
}
