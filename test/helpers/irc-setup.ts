/**
 * The steps IRC tests take around a RawIrcClient, in one place: register with capabilities
 * (and SASL PLAIN) negotiated first, join a channel, wait until the server has handled
 * everything sent so far, collect the answer to one command, read a line's tags.
 *
 * Every wait is a `RawIrcClient.expect`, so a test that fails says what it waited for and
 * every line the client had received.
 */
import { RawIrcClient } from './irc-client.js';

/** A registered client that knows its nick (for the tests that address it by name). */
export type NamedIrcClient = RawIrcClient & { readonly nick: string };

export interface Registration {
  /** USER's realname; the nick when not given. */
  realname?: string;
  /** SASL PLAIN during negotiation (IRCv3 sasl-3.1); `caps` must include `sasl`. */
  sasl?: { account: string; password: string };
}

/**
 * Connects and registers as `nick`. With `caps`, requests them first and ends negotiation
 * once they are acknowledged (and SASL is done); without, registers with no CAP at all,
 * as a client that knows nothing of IRCv3.
 */
export async function ircClient(
  port: number,
  nick: string,
  caps = '',
  { realname = nick, sasl }: Registration = {},
): Promise<NamedIrcClient> {
  const c = await RawIrcClient.connect(port);
  if (caps) {
    c.send(`CAP REQ :${caps}`);
    // Before NICK the server calls us `*`.
    await c.expect(/ CAP \* ACK /);
  }
  if (sasl) {
    c.send('AUTHENTICATE PLAIN');
    await c.expect(/^AUTHENTICATE \+$/);
    const plain = Buffer.from(`\0${sasl.account}\0${sasl.password}`).toString('base64');
    c.send(`AUTHENTICATE ${plain}`);
    await c.expect(/ 903 /);
  }
  c.send(`NICK ${nick}`);
  c.send(`USER ${nick} 0 * :${realname}`);
  if (caps) c.send('CAP END');
  await c.expect(/ 001 /);
  return Object.assign(c, { nick });
}

/** Joins `room` (with `key`, if any) and waits for the end of its NAMES (366). */
export async function ircJoin(c: RawIrcClient, room: string, key = ''): Promise<void> {
  c.send(`JOIN ${room}${key ? ` ${key}` : ''}`);
  await c.expect(new RegExp(` 366 \\S+ ${room} `));
}

let tokens = 0;

/**
 * Waits for the PONG to a PING sent now: commands are answered in order, so everything
 * sent before it has been handled. `label` names the token (it shows in a timeout).
 */
export async function sync(c: RawIrcClient, label = 'sync', timeoutMs = 5000): Promise<string> {
  const token = `${label}-${++tokens}`;
  c.send(`PING :${token}`);
  return c.expect(new RegExp(` PONG \\S+ :?${token}$`), timeoutMs);
}

/** Everything `c` received in answer to `command` (commands are answered in order). */
export async function ask(c: RawIrcClient, command: string, timeoutMs = 10_000): Promise<string[]> {
  const from = c.lines.length;
  c.send(command);
  const pong = await sync(c, 'sync', timeoutMs);
  // Up to the PONG itself: lines that came after it in the same read are not the answer.
  return c.lines.slice(from, c.lines.lastIndexOf(pong));
}

/** A line's tags, values as sent (escaped); a tag without a value is ''. */
export function tagsOf(l: string): Record<string, string> {
  if (!l.startsWith('@')) return {};
  return Object.fromEntries(
    l
      .slice(1, l.indexOf(' '))
      .split(';')
      .map((t) =>
        t.includes('=') ? [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)] : [t, ''],
      ),
  );
}

/** A line without its tag section. */
export function untag(l: string): string {
  return l.startsWith('@') ? l.slice(l.indexOf(' ') + 1) : l;
}
