/**
 * Typed input → an action. Plain text goes to the current view; a leading "/" is a
 * command (the same names telnet and IRC users know); "//" sends a literal slash.
 */
export type Action =
  | { kind: 'say'; text: string }
  | { kind: 'me'; text: string }
  | { kind: 'join'; room: string; key?: string }
  | { kind: 'part'; room?: string; reason?: string }
  | { kind: 'msg'; to: string; text: string }
  | { kind: 'query'; to: string }
  | { kind: 'nick'; name: string }
  | { kind: 'topic'; topic?: string }
  | { kind: 'rename'; to: string; reason?: string }
  | { kind: 'away'; text?: string }
  | { kind: 'register'; password: string }
  | { kind: 'identify'; password: string; account?: string }
  | { kind: 'who' }
  | { kind: 'search'; q: string }
  | { kind: 'rooms' }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

/** One row of /help: what to type, and what it does. */
export interface HelpRow {
  usage: string;
  text: string;
}

/** Shown as one block (one time stamp, two columns), not a line per command. */
export const HELP: readonly HelpRow[] = [
  { usage: '/join #room', text: 'join a room, or switch to it' },
  { usage: '/part [#room] [reason]', text: 'leave a room (or close a private chat)' },
  { usage: '/me text', text: 'an action: "* you text"' },
  { usage: '/msg name text', text: 'a private message' },
  { usage: '/query name', text: 'open a private chat' },
  { usage: '/nick name', text: 'change your name' },
  { usage: '/topic [text]', text: 'show or set the topic' },
  {
    usage: '/rename #new [reason]',
    text: 'give this room a new name; its history and everything else follow (operators)',
  },
  { usage: '/away [text]', text: 'mark yourself away (no text: back)' },
  { usage: '/register password', text: 'protect your name with a password' },
  {
    usage: '/identify [account] password',
    text: 'prove a name is yours; private chats between identified accounts are kept and come back after a reload',
  },
  { usage: '/who', text: 'who is in this room' },
  {
    usage: '/search words',
    text: 'find messages in your rooms and private chats (also the search box at the top)',
  },
  { usage: '/rooms', text: 'every room, to join one' },
  { usage: '//text', text: 'say something that starts with /' },
];

export const HELP_KEYS =
  'Keys: Tab completes a name, ↑ ↓ recall what you sent, Alt+↑ ↓ switch rooms, Esc closes a side panel.';

/** "#dev" or "dev" → "#dev". */
export function roomName(word: string): string {
  return word.startsWith('#') ? word : `#${word}`;
}

function split(rest: string): [string, string] {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(rest.trim());
  return m ? [m[1] ?? '', m[2] ?? ''] : ['', ''];
}

export function parseInput(input: string): Action | null {
  const text = input.replace(/\s+$/, '');
  if (text.trim() === '') return null;
  if (!text.startsWith('/') || text.startsWith('//')) {
    return { kind: 'say', text: text.startsWith('//') ? text.slice(1) : text };
  }
  const [command, rest] = split(text.slice(1));
  switch (command.toLowerCase()) {
    case 'me':
      return rest ? { kind: 'me', text: rest } : { kind: 'error', message: 'Usage: /me text' };
    case 'join':
    case 'j': {
      const [room, key] = split(rest);
      if (!room) return { kind: 'error', message: 'Usage: /join #room' };
      return { kind: 'join', room: roomName(room), ...(key ? { key } : {}) };
    }
    case 'part':
    case 'leave':
    case 'close': {
      const [first, more] = split(rest);
      if (first.startsWith('#'))
        return { kind: 'part', room: first, ...(more ? { reason: more } : {}) };
      return { kind: 'part', ...(rest.trim() ? { reason: rest.trim() } : {}) };
    }
    case 'msg':
    case 'dm': {
      const [to, body] = split(rest);
      if (!to) return { kind: 'error', message: 'Usage: /msg name text' };
      return body ? { kind: 'msg', to, text: body } : { kind: 'query', to };
    }
    case 'query': {
      const [to] = split(rest);
      return to ? { kind: 'query', to } : { kind: 'error', message: 'Usage: /query name' };
    }
    case 'nick': {
      const [name] = split(rest);
      return name ? { kind: 'nick', name } : { kind: 'error', message: 'Usage: /nick name' };
    }
    case 'topic':
      return rest.trim() ? { kind: 'topic', topic: rest.trim() } : { kind: 'topic' };
    case 'rename': {
      const [to, why] = split(rest);
      if (!to) return { kind: 'error', message: 'Usage: /rename #new [reason]' };
      const reason = why.trim();
      return { kind: 'rename', to: roomName(to), ...(reason ? { reason } : {}) };
    }
    case 'away':
      return rest.trim() ? { kind: 'away', text: rest.trim() } : { kind: 'away' };
    case 'back':
      return { kind: 'away' };
    case 'register': {
      const password = rest.trim();
      return password
        ? { kind: 'register', password }
        : { kind: 'error', message: 'Usage: /register password' };
    }
    case 'identify': {
      const words = rest.trim().split(/\s+/).filter(Boolean);
      if (words.length === 1) return { kind: 'identify', password: words[0] as string };
      if (words.length === 2)
        return { kind: 'identify', account: words[0] as string, password: words[1] as string };
      return { kind: 'error', message: 'Usage: /identify [account] password' };
    }
    case 'who':
    case 'names':
      return { kind: 'who' };
    case 'search':
    case 'find':
      return rest.trim()
        ? { kind: 'search', q: rest.trim() }
        : { kind: 'error', message: 'Usage: /search words' };
    case 'rooms':
    case 'list':
      return { kind: 'rooms' };
    case 'help':
    case '?':
      return { kind: 'help' };
    default:
      return { kind: 'error', message: `Unknown command /${command}. Type /help for the list.` };
  }
}
