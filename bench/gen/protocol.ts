/**
 * The two wire formats the generator speaks. Only what a benchmark client needs:
 * register, join one room, say a line there, tell one person, answer PING.
 * Everything else the server sends is counted and otherwise ignored.
 */
import type { ProtocolName } from './types.js';

export interface WireProtocol {
  readonly name: ProtocolName;
  register(nick: string): string;
  /** Any of these substrings in a server line means registration finished. */
  readonly registered: readonly string[];
  join(room: string): string;
  /** Any of these substrings means our own join finished (the member list, if any, is sent). */
  readonly joined: readonly string[];
  say(room: string, text: string): string;
  tell(nick: string, text: string): string;
  /** The reply to a server keep-alive line, or null when the line is not one. */
  pong(line: string): string | null;
}

/** Plugboard's telnet/netcat protocol, which the Python baseline imitates. */
const line: WireProtocol = {
  name: 'line',
  register: (nick) => `${nick}\n`,
  registered: ['* Welcome, '],
  join: (room) => `/join ${room}\n`,
  joined: ['* You joined '],
  // A plain line goes to the current room; the generator joins exactly one.
  say: (_room, text) => `${text}\n`,
  tell: (nick, text) => `/msg ${nick} ${text}\n`,
  pong: () => null,
};

/** RFC 2812 client side: registration ends at end of MOTD (376) or no MOTD (422). */
const irc: WireProtocol = {
  name: 'irc',
  register: (nick) => `NICK ${nick}\r\nUSER ${nick} 0 * :bench ${nick}\r\n`,
  registered: [' 376 ', ' 422 '],
  join: (room) => `JOIN ${room}\r\n`,
  // 366 RPL_ENDOFNAMES closes the reply to our own JOIN (RFC 2812 section 3.2.1).
  joined: [' 366 '],
  say: (room, text) => `PRIVMSG ${room} :${text}\r\n`,
  tell: (nick, text) => `PRIVMSG ${nick} :${text}\r\n`,
  pong: (l) => (l.startsWith('PING') ? `PONG${l.slice(4)}\r\n` : null),
};

export function protocolFor(name: ProtocolName): WireProtocol {
  return name === 'irc' ? irc : line;
}
