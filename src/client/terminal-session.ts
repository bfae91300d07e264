/**
 * One run of the terminal client: reads the keyboard (or a pipe) and the socket at once,
 * prints events above the prompt, reconnects with backoff back into its rooms, and leaves
 * cleanly on /quit, SIGINT, SIGTERM and SIGHUP.
 */
import { createInterface, type Interface } from 'node:readline';
import type { ServerMessage } from '../protocols/json/schema.js';
import { commandNames, helpLines, parseInput, UsageError, type Action } from './commands.js';
import { clean, colorName, formatEvent, topicAnswer } from './format.js';
import { FramedClient, RequestError, type Request } from './framed-client.js';
import { retryUntil, seconds } from './retry.js';
import { Roster, variantName } from './roster.js';
import { Screen } from './screen.js';

export interface SessionOptions {
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

/** Names tried when ours is taken: alice_, alice_2 … alice_5. */
const NAME_VARIANTS = 5;
/** Pipe mode: how long to wait for the server to acknowledge what was sent. */
const ACK_WAIT_MS = 10_000;

export class TerminalSession {
  private client: FramedClient | null = null;
  private rl: Interface | null = null;
  private readonly roster: Roster;
  private readonly screen: Screen;
  /** Newest message id seen per room: a replay after a reconnect shows only what was missed. */
  private readonly lastSeen = new Map<string, bigint>();
  /** The room names as the server spells them, by folded name (for `since`). */
  private readonly roomNames = new Map<string, string>();
  /** The server's resume token (from the welcome or the shutdown): our name back. */
  private token: string | null = null;
  /** Rooms whose topic we asked for: the next `topic` event for them is the answer. */
  private readonly topicAsked = new Set<string>();
  /** The last search answered, for /more. */
  private lastSearch: { q: string; room?: string; next: string | null } | null = null;
  private quitting = false;
  /** Pipe mode with --once: a refused line makes the exit code 1. */
  private failures = 0;
  private finished!: (code: number) => void;

  constructor(private readonly o: SessionOptions) {
    this.roster = new Roster(o.name);
    // With --json, stdout carries nothing but the server's events, one JSON object per line;
    // the client's own lines (a refused command, a reconnect) go to stderr.
    this.screen = new Screen(o.json ? process.stderr : process.stdout, o.tty, o.log);
  }

  run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.finished = resolve));
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
      process.on(sig, () => void this.quit('leaving'));
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

  /** TCP connect, hello and welcome, all within the connect timeout. */
  private async connect(): Promise<void> {
    const client = await FramedClient.connect(this.o.host, this.o.port, {
      timeoutMs: this.o.timeoutMs,
    });
    // While the name is being settled a refusal is ours to handle: the taken notice after
    // the welcome says it, in place of a bare "already in use" error.
    let naming = true;
    client.on('event', (msg: ServerMessage) => {
      if (naming && msg.type === 'error' && msg.code === 'name_in_use') return;
      this.onEvent(clean(msg));
    });
    client.on('protocol-error', (err: Error) => this.screen.print(`! ${err.message}`));
    // Coming back: the token gets our name back, and each room we saw messages in replays
    // from the newest one we saw (the server sends exactly what we missed).
    const since: Record<string, string> = {};
    for (const [key, id] of this.lastSeen) since[this.roomNames.get(key) ?? key] = id.toString();
    const hello = (name: string): Request => ({
      type: 'hello',
      name,
      client: 'plugboard-connect',
      ...(this.o.password ? { password: this.o.password } : {}),
      ...(this.token ? { token: this.token } : {}),
      ...(Object.keys(since).length > 0 ? { since } : {}),
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no welcome within ${this.o.timeoutMs} ms`)),
        this.o.timeoutMs,
      );
    });
    try {
      // Keep going under a variant rather than fail (someone has the name, or our own old
      // connection still holds it): the user is told, and /nick can take it back later.
      for (let tries = 0; ; tries++) {
        const name = tries === 0 ? this.roster.wanted : variantName(this.roster.wanted, tries);
        try {
          await Promise.race([client.request(hello(name)), timeout]);
          break;
        } catch (err) {
          if ((err as { code?: string }).code !== 'name_in_use' || tries >= NAME_VARIANTS)
            throw err;
        }
      }
      naming = false;
    } catch (err) {
      client.removeAllListeners('close');
      client.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.client = client;
    client.on('close', () => this.onClose(client));
  }

  private openInput(): void {
    if (this.o.tty) tolerateHangup();
    const rl = createInterface({
      input: process.stdin,
      output: this.o.tty ? process.stdout : undefined,
      terminal: this.o.tty,
      historySize: 500,
      removeHistoryDuplicates: true,
      completer: (line: string) => this.complete(line),
    });
    this.rl = rl;
    this.screen.attach(rl);
    rl.on('line', (line) => void this.onLine(line));
    // In raw mode Ctrl-C arrives here rather than as a signal.
    rl.on('SIGINT', () => void this.quit('leaving'));
    // A pipe ended: finish what was sent. A terminal ended (Ctrl-D, window closed): leave.
    rl.on('close', () => void (this.o.tty ? this.quit('leaving') : this.endOfInput()));
    this.prompt();
  }

  private prompt(): void {
    this.screen.prompt(this.roster.prompt());
  }

  /** Commands at the start of a line, rooms after /join and /switch, names elsewhere. */
  private complete(line: string): [string[], string] {
    const words = line.split(' ');
    const word = words.at(-1) ?? '';
    let pool: string[];
    if (words.length === 1 && word.startsWith('/')) pool = commandNames.map((c) => `${c} `);
    else if (words.length === 2 && /^\/(join|switch|part|who)$/i.test(words[0] ?? ''))
      pool = [...this.roster.rooms];
    else {
      pool = this.roster.membersOf(this.roster.current);
      // A name at the start of a line is someone being addressed: "alice: ".
      if (words.length === 1) pool = pool.map((n) => `${n}: `);
    }
    return [pool.filter((c) => c.toLowerCase().startsWith(word.toLowerCase())), word];
  }

  private onEvent(msg: ServerMessage): void {
    if ((msg.type === 'welcome' || msg.type === 'shutdown') && msg.token) this.token = msg.token;
    if (this.roster.apply(msg)) this.prompt();
    const shown = this.unseen(msg);
    if (this.o.json) {
      this.screen.log(JSON.stringify(msg));
      process.stdout.write(`${JSON.stringify(msg)}\n`);
      return;
    }
    if (msg.type === 'search') {
      this.lastSearch = { q: msg.q, next: msg.next, ...(msg.room ? { room: msg.room } : {}) };
    }
    if (msg.type === 'topic' && this.topicAsked.delete(msg.room.toLowerCase())) {
      this.screen.print(topicAnswer(msg));
      return;
    }
    const paint = this.o.color ? colorName : (n: string) => n;
    const view = { me: this.roster.name, current: this.roster.current, paint };
    for (const line of formatEvent(shown, view)) this.screen.print(line);
    const taken = msg.type === 'welcome' ? this.roster.takenNotice() : null;
    if (taken) this.screen.print(taken);
  }

  /** Drops replayed messages already shown on an earlier connection; notes the newest. */
  private unseen(msg: ServerMessage): ServerMessage {
    const seen = (room: string) => this.lastSeen.get(room.toLowerCase());
    const note = (room: string, id: string) => {
      if (!/^\d{1,20}$/.test(id)) return;
      const n = BigInt(id);
      if ((seen(room) ?? -1n) < n) this.lastSeen.set(room.toLowerCase(), n);
      this.roomNames.set(room.toLowerCase(), room);
    };
    if (msg.type === 'message') note(msg.room, msg.id);
    if (msg.type !== 'history' || msg.ref !== undefined) return msg;
    const last = seen(msg.room);
    const messages =
      last === undefined
        ? msg.messages
        : msg.messages.filter((m) => !/^\d{1,20}$/.test(m.id) || BigInt(m.id) > last);
    for (const m of messages) note(m.room, m.id);
    return { ...msg, messages };
  }

  private async onLine(raw: string): Promise<void> {
    // When the terminal goes away readline hands over the half-typed line as if Enter had
    // been pressed; nobody meant to send it.
    if (this.o.tty && process.stdin.readableEnded) return;
    const line = raw.trim();
    // readline leaves the submitted prompt and text on screen; the server's echo (with its
    // time and our name) is the one rendering of a message, and a command's answer says
    // what it did.
    this.screen.retract(raw);
    this.prompt();
    if (!line) return;
    let action: Action;
    try {
      action = parseInput(line, {
        current: this.roster.current,
        rooms: this.roster.rooms,
        lastSeen: (room) => this.lastSeen.get(room.toLowerCase())?.toString() ?? null,
      });
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      this.failures++;
      this.screen.print(`! ${err.message}`);
      return;
    }
    if (action.kind === 'more') {
      const last = this.lastSearch;
      if (!last || last.next === null) {
        this.failures++;
        this.screen.print(
          last ? '! No more matches' : '! No search to continue: /search TEXT first',
        );
        return;
      }
      action = {
        kind: 'request',
        request: {
          type: 'search' as const,
          q: last.q,
          ...(last.room !== undefined ? { room: last.room } : {}),
          before: last.next,
        },
      };
    }
    switch (action.kind) {
      case 'help':
        for (const l of helpLines(this.roster.current, this.screen.width())) this.screen.print(l);
        return;
      case 'switch':
        this.roster.current = action.room;
        this.screen.print(`* Your current room is now ${action.room}`);
        this.prompt();
        // Looking at a room is reading it.
        this.markRead(action.room);
        return;
      case 'quit':
        await this.quit(action.reason);
        return;
      case 'send':
      case 'request': {
        const client = this.client;
        if (!client || client.closed) {
          this.failures++;
          this.screen.print(`! Not connected, not sent: ${line}`);
          return;
        }
        if (action.kind === 'send') {
          if (action.request.type === 'topic')
            this.topicAsked.add(action.request.room.toLowerCase());
          client.send(action.request);
          return;
        }
        try {
          const reply = await client.request(action.request);
          if (action.done) this.screen.print(action.done);
          // Saying something in a room is having read it up to there.
          const sent = action.request;
          if ((sent.type === 'say' || sent.type === 'me') && reply.type === 'ok' && reply.id) {
            this.markRead(sent.room, reply.id);
          }
        } catch (err) {
          this.failures++;
          // A server error was printed as its `error` event, a lost connection by onClose.
          if (!(err instanceof RequestError) && !client.closed)
            this.screen.print(`! ${(err as Error).message}`);
        }
      }
    }
  }

  /**
   * Moves the account's read marker for `room` (to `id`, or the newest message seen
   * there); fire-and-forget: the server ignores a marker that is not further on, and a
   * guest's lasts only as long as the connection.
   */
  private markRead(room: string, id?: string): void {
    const newest = id ?? this.lastSeen.get(room.toLowerCase())?.toString();
    const client = this.client;
    if (newest === undefined || !client || client.closed) return;
    client.send({ type: 'markread', room, id: newest });
  }

  /** Pipe mode: stdin ended. Wait for the acknowledgements, then leave (or keep listening). */
  private async endOfInput(): Promise<void> {
    const client = this.client;
    const deadline = Date.now() + ACK_WAIT_MS;
    while (client && client.waiting > 0 && !client.closed && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    if (!this.o.once) return;
    if (client && client.waiting > 0) {
      this.failures++;
      this.screen.print(`! No answer from the server to ${client.waiting} line(s)`);
    }
    await this.quit('done', this.failures > 0 ? 1 : 0);
  }

  private onClose(client: FramedClient): void {
    if (this.quitting || client !== this.client) return;
    this.screen.print('Disconnected from server');
    if (!this.o.reconnect) {
      this.finish(1);
      return;
    }
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    const before = { rooms: [...this.roster.rooms], current: this.roster.current };
    const back = await retryUntil(
      async () => {
        this.roster.reset();
        await this.connect();
      },
      {
        stopped: () => this.quitting,
        // Every wait is announced with its real length, the first one too.
        onWait: (delay, failure) =>
          this.screen.print(
            failure
              ? `* Reconnect failed (${failure.message}); next try in ${seconds(delay)}`
              : `* Reconnecting in ${seconds(delay)}`,
          ),
      },
    );
    if (!back) return;
    this.screen.print(`* Reconnected to ${this.o.host}:${this.o.port}`);
    await this.restoreRooms(before.rooms, before.current);
  }

  /** Back into the rooms we were in, out of default rooms we had left, same current room. */
  private async restoreRooms(rooms: string[], current: string | null): Promise<void> {
    const client = this.client;
    if (!client) return;
    const wanted = new Set(rooms.map((r) => r.toLowerCase()));
    const have = () => new Set([...this.roster.rooms].map((r) => r.toLowerCase()));
    for (const room of rooms) {
      if (have().has(room.toLowerCase())) continue;
      await client.request({ type: 'join', room }).catch(() => {}); // its error is printed
    }
    for (const room of [...this.roster.rooms]) {
      if (!wanted.has(room.toLowerCase()))
        await client.request({ type: 'part', room, reason: 'rejoining' }).catch(() => {});
    }
    const again = [...this.roster.rooms].find((r) => r.toLowerCase() === current?.toLowerCase());
    if (again) this.roster.current = again;
    this.prompt();
  }

  private async quit(reason: string, code = 0): Promise<void> {
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
    this.finish(code);
  }

  private finish(code: number): void {
    this.quitting = true;
    this.screen.detach();
    // Closing readline takes the terminal out of raw mode; say so explicitly as well, in
    // case input was never opened or readline is already gone.
    this.rl?.close();
    if (this.o.tty) process.stdin.setRawMode(false);
    if (this.o.tty) process.stdout.write('\n');
    this.finished(code);
  }
}

/**
 * On a terminal that has hung up (window closed, SSH dropped), leaving raw mode fails with
 * EIO; readline does that while closing and the exception would kill us before `quit` is
 * sent. There is no terminal left to restore then, so the failure is ignored.
 */
function tolerateHangup(): void {
  const stdin = process.stdin;
  const setRawMode = stdin.setRawMode.bind(stdin);
  stdin.setRawMode = (mode: boolean) => {
    try {
      return setRawMode(mode);
    } catch {
      return stdin;
    }
  };
}
