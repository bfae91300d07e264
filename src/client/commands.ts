/**
 * The terminal client's slash commands, as a table like the line protocol's: the same
 * names and usages, each turned into a framed request (or a local action). Pure: the
 * session decides what to do with the result, so this is tested without sockets.
 */
import type { Request } from './framed-client.js';

export type Action =
  | { kind: 'request'; request: Request; /** printed once the server said ok */ done?: string }
  /** Sent without waiting: the server's answer does not carry the request's ref. */
  | { kind: 'send'; request: Request }
  | { kind: 'switch'; room: string }
  /** The next page of the last search (the session keeps its cursor). */
  | { kind: 'more' }
  | { kind: 'help' }
  | { kind: 'quit'; reason: string };

export interface InputContext {
  /** The room plain text goes to, or null when in none. */
  current: string | null;
  /** Rooms we are in (for /switch). */
  rooms: ReadonlySet<string>;
  /** The newest message id seen in a room, or null (for /read). */
  lastSeen?: (room: string) => string | null;
}

interface Args {
  argv: string[];
  /** Everything from argument n on, verbatim (spacing kept). */
  rest(n: number): string;
  room(i: number): string;
  current(): string;
}

interface Command {
  name: string;
  usage: string;
  help: string;
  minArgs: number;
  run(a: Args, ctx: InputContext): Action;
}

export class UsageError extends Error {}

const room = (arg: string) => (arg.startsWith('#') ? arg : `#${arg}`);

export const commands: Command[] = [
  {
    name: 'help',
    usage: '/help',
    help: 'list commands',
    minArgs: 0,
    run: () => ({ kind: 'help' }),
  },
  {
    name: 'nick',
    usage: '/nick NAME',
    help: 'change your name',
    minArgs: 1,
    run: (a) => ({ kind: 'request', request: { type: 'nick', name: a.argv[0] as string } }),
  },
  {
    name: 'join',
    usage: '/join ROOM [KEY]',
    help: 'join (or create) a room and make it current',
    minArgs: 1,
    run: (a) => ({
      kind: 'request',
      request: { type: 'join', room: a.room(0), ...(a.argv[1] ? { key: a.argv[1] } : {}) },
    }),
  },
  {
    name: 'part',
    usage: '/part [ROOM] [REASON]',
    help: 'leave a room (default: the current one)',
    minArgs: 0,
    run: (a) => ({
      kind: 'request',
      request: { type: 'part', room: a.room(0), reason: a.rest(1) },
    }),
  },
  {
    name: 'switch',
    usage: '/switch ROOM',
    help: 'make one of your rooms the current one',
    minArgs: 1,
    run(a, ctx) {
      const target = a.room(0).toLowerCase();
      const found = [...ctx.rooms].find((r) => r.toLowerCase() === target);
      if (!found) throw new UsageError(`You are not in ${a.room(0)}: /join it first`);
      return { kind: 'switch', room: found };
    },
  },
  {
    name: 'rooms',
    usage: '/rooms',
    help: 'list rooms with members and topic',
    minArgs: 0,
    run: () => ({ kind: 'request', request: { type: 'rooms' } }),
  },
  {
    name: 'who',
    usage: '/who [ROOM]',
    help: 'who is in a room (default: the current one)',
    minArgs: 0,
    run: (a) => ({ kind: 'request', request: { type: 'who', room: a.room(0) } }),
  },
  {
    name: 'msg',
    usage: '/msg NAME TEXT',
    help: 'send a private message',
    minArgs: 2,
    run: (a) => ({
      kind: 'request',
      request: { type: 'dm', to: a.argv[0] as string, text: a.rest(1) },
    }),
  },
  {
    name: 'me',
    usage: '/me ACTION',
    help: 'describe an action in the current room',
    minArgs: 1,
    run: (a) => ({ kind: 'request', request: { type: 'me', room: a.current(), text: a.rest(0) } }),
  },
  {
    name: 'topic',
    usage: '/topic [TEXT]',
    help: 'show or set the topic of the current room',
    minArgs: 0,
    // Asking for the topic is answered with a `topic` event that has no ref.
    run: (a) =>
      a.argv[0]
        ? { kind: 'request', request: { type: 'topic', room: a.current(), topic: a.rest(0) } }
        : { kind: 'send', request: { type: 'topic', room: a.current() } },
  },
  {
    name: 'away',
    usage: '/away [TEXT]',
    help: 'mark yourself away (no text: back)',
    minArgs: 0,
    run: (a) => ({
      kind: 'request',
      request: { type: 'away', ...(a.argv[0] ? { text: a.rest(0) } : {}) },
      done: a.argv[0] ? `* You are marked away: ${a.rest(0)}` : '* You are no longer marked away',
    }),
  },
  {
    name: 'history',
    usage: '/history [NAME] [N]',
    help: 'the last N messages of the current room, or of your private chat with NAME (identified)',
    minArgs: 0,
    run(a) {
      // A first word that is not a number names a person: private history.
      const peer = a.argv[0] !== undefined && !/^\d+$/.test(a.argv[0]) ? a.argv[0] : null;
      const count = peer === null ? a.argv[0] : a.argv[1];
      const n = count === undefined ? 20 : Number(count);
      if (!Number.isInteger(n) || n < 1 || n > 500)
        throw new UsageError('usage: /history [NAME] [N] (N between 1 and 500)');
      if (peer !== null)
        return { kind: 'request', request: { type: 'dm_history', with: peer, limit: n } };
      return { kind: 'request', request: { type: 'history', room: a.current(), limit: n } };
    },
  },
  {
    name: 'search',
    usage: '/search [ROOM] TEXT',
    help: 'find messages in your rooms (or ROOM) and private chats',
    minArgs: 1,
    run(a) {
      // A first word starting with # names the room (when words follow it).
      const inRoom = (a.argv[0] as string).startsWith('#') && a.argv.length > 1;
      return {
        kind: 'request',
        request: inRoom
          ? { type: 'search', room: a.argv[0] as string, q: a.rest(1) }
          : { type: 'search', q: a.rest(0) },
      };
    },
  },
  {
    name: 'more',
    usage: '/more',
    help: 'the next, older page of your last search',
    minArgs: 0,
    run: () => ({ kind: 'more' }),
  },
  {
    name: 'read',
    usage: '/read',
    help: 'mark the current room read, for your other devices too',
    minArgs: 0,
    run(a, ctx) {
      const room = a.current();
      const id = ctx.lastSeen?.(room) ?? null;
      if (id === null) throw new UsageError(`Nothing to mark read in ${room} yet`);
      return {
        kind: 'request',
        request: { type: 'markread', room, id },
        done: `* ${room} is marked read`,
      };
    },
  },
  {
    name: 'kick',
    usage: '/kick ROOM NAME [REASON]',
    help: 'remove someone from a room (operators)',
    minArgs: 2,
    run: (a) => ({
      kind: 'request',
      request: { type: 'kick', room: a.room(0), name: a.argv[1] as string, reason: a.rest(2) },
    }),
  },
  {
    name: 'rename',
    usage: '/rename ROOM NEW [REASON]',
    help: 'give a room a new name; everything in it follows (operators)',
    minArgs: 2,
    run: (a) => ({
      kind: 'request',
      request: {
        type: 'rename',
        room: a.room(0),
        to: room(a.argv[1] as string),
        reason: a.rest(2),
      },
    }),
  },
  {
    name: 'register',
    usage: '/register PASSWORD',
    help: 'protect your current name with a password',
    minArgs: 1,
    run: (a) => ({
      kind: 'request',
      request: { type: 'register', password: a.rest(0) },
      done: '* Your name is registered',
    }),
  },
  {
    name: 'identify',
    usage: '/identify [NAME] PASSWORD',
    help: 'log in to a registered name',
    minArgs: 1,
    run: (a) => ({
      kind: 'request',
      request:
        a.argv.length >= 2
          ? { type: 'identify', name: a.argv[0] as string, password: a.rest(1) }
          : { type: 'identify', password: a.rest(0) },
      done: '* You are identified',
    }),
  },
  {
    name: 'quit',
    usage: '/quit [REASON]',
    help: 'leave the server',
    minArgs: 0,
    run: (a) => ({ kind: 'quit', reason: a.rest(0) || 'leaving' }),
  },
];

/** Every command as typed, for Tab completion. */
export const commandNames = commands.map((c) => `/${c.name}`);

/**
 * The help table. With a terminal `width`, each description wraps at spaces under its own
 * column: left to the terminal, a long one broke mid-table and its next row began with the
 * space it broke at. Without a width (a pipe), one line per command.
 */
export function helpLines(current: string | null, width = Infinity): string[] {
  const usageWidth = Math.max(...commands.map((c) => c.usage.length));
  const lines = ['* Commands:'];
  for (const c of commands) {
    const lead = `*   ${c.usage.padEnd(usageWidth)}  `;
    // Too narrow for two columns: the description goes below its command.
    if (width - lead.length < 20) {
      lines.push(`*   ${c.usage}`, ...wrapWords(c.help, width - 8, '').map((l) => `*       ${l}`));
      continue;
    }
    const [first = '', ...more] = wrapWords(c.help, width - lead.length, '');
    lines.push(lead + first, ...more.map((l) => `*${' '.repeat(lead.length - 1)}${l}`));
  }
  const tail = `Anything else you type is said in ${current ?? 'your current room'}; start a line with // to say one starting with /.`;
  lines.push(...wrapWords(tail, width - 2, '  ').map((l) => `* ${l}`));
  return lines;
}

/**
 * Words of `text` in lines of at most `width` columns (every line after the first begins
 * with `indent`, counted in the width); a word longer than a line is cut.
 */
export function wrapWords(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  const room = () => Math.max(1, width - (lines.length === 0 ? 0 : indent.length));
  const flush = () => {
    lines.push((lines.length === 0 ? '' : indent) + line);
    line = '';
  };
  for (let word of text.split(' ').filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > room()) flush();
    while (line === '' && word.length > room()) {
      const r = room();
      line = word.slice(0, r);
      word = word.slice(r);
      flush();
    }
    if (word !== '') line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '' || lines.length === 0) flush();
  return lines;
}

/** What one typed line means. Throws UsageError for a line that cannot be sent. */
export function parseInput(line: string, ctx: InputContext): Action {
  const current = () => {
    if (!ctx.current) throw new UsageError('You are not in a room: /join ROOM first');
    return ctx.current;
  };
  if (!line.startsWith('/') || line.startsWith('//')) {
    const text = line.startsWith('//') ? line.slice(1) : line;
    return { kind: 'request', request: { type: 'say', room: current(), text } };
  }
  const body = line.slice(1);
  const argv = body.split(/\s+/).filter(Boolean);
  const name = (argv.shift() ?? '').toLowerCase();
  const command = commands.find((c) => c.name === name);
  if (!command) throw new UsageError(`Unknown command /${name}. Type /help for the list.`);
  if (argv.length < command.minArgs) throw new UsageError(`usage: ${command.usage}`);
  // rest(n): the text after the command word and n arguments, exactly as typed.
  const rest = (n: number) => {
    const m = new RegExp(`^\\s*\\S+(?:\\s+\\S+){${n}}\\s?`).exec(body);
    return m ? body.slice(m[0].length).trim() : '';
  };
  return command.run(
    { argv, rest, room: (i) => (argv[i] ? room(argv[i]) : current()), current },
    ctx,
  );
}
