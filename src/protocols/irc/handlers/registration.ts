/**
 * Connection registration (RFC 2812 3.1; modern.ircdocs.horse "Connection Registration"):
 * PASS, NICK, USER, then the welcome burst once NICK and USER are in and CAP
 * negotiation (if any) has ended. Also PING/PONG and QUIT, which work at any time.
 */
import { ChatError, ErrorCode } from '../../../core/errors.js';
import { fold } from '../../../core/names.js';
import { cleanText } from '../../../core/text.js';
import type { IrcClient } from '../client.js';
import type { IrcCommand } from '../command.js';
import { replyError } from '../errors.js';
import { ERR } from '../numerics.js';
import { USERLEN, sendWelcome } from './welcome.js';

/** Completes registration when everything it needs has arrived. */
export async function tryRegister(c: IrcClient): Promise<void> {
  const s = c.session;
  const st = c.state;
  if (s.registered || !s.name || !st.gotUser || st.capHold || s.closed) return;
  const password = c.hub.options.password;
  if (password !== null && st.password !== password) {
    // Modern: ERR_PASSWDMISMATCH, then close with ERROR.
    c.reply(ERR.PASSWDMISMATCH, 'Password incorrect');
    c.close('Bad password');
    return;
  }
  try {
    // Authenticated with SASL as the account owning this nick: nobody keeps it from us.
    if (s.account !== null && s.account.toLowerCase() === s.name.toLowerCase()) {
      await c.hub.accounts.takeOver(s, s.account);
    }
    await c.hub.register(s);
  } catch (err) {
    if (!(err instanceof ChatError)) throw err;
    if (err.code === ErrorCode.Banned) {
      c.close(err.message);
      return;
    }
    // Someone completed registration with this nick first: choose another.
    c.hub.sessions.rename(s, '');
    replyError(c, err, { command: 'NICK' });
    return;
  }
  // Back under the same nick (a dropped connection, a restart): each room's first JOIN
  // replays what was missed since, rather than the last lines (replay.ts).
  st.seen = await c.hub.resume.loadSeen(s.name);
  await sendWelcome(c);
  c.hub.welcomed(s);
}

/** Usernames keep to characters every client and mask matcher takes; '~' marks "no ident". */
export function cleanUsername(raw: string): string {
  const kept = raw.replace(/[^A-Za-z0-9._\-[\]\\`^{}|]/g, '').slice(0, USERLEN - 1);
  return `~${kept || 'user'}`;
}

export const registration: IrcCommand[] = [
  {
    name: 'PASS',
    minParams: 1,
    preRegistration: true,
    run(c, m) {
      if (c.session.registered) return c.reply(ERR.ALREADYREGISTERED, 'You may not reregister');
      c.state.password = m.params[0] as string;
    },
  },
  {
    name: 'NICK',
    minParams: 0,
    preRegistration: true,
    async run(c, m) {
      const nick = m.params[0];
      if (!nick) return c.reply(ERR.NONICKNAMEGIVEN, 'No nickname given');
      const s = c.session;
      try {
        await c.hub.setName(s, nick);
      } catch (err) {
        if (!(err instanceof ChatError)) throw err;
        // Authenticated (SASL) as the account that owns this nick, before registering:
        // the nick is theirs, whoever holds it (a ghost of a dropped connection, a session
        // of a node that died): taken over as GHOST would, then taken.
        const own = !s.registered && s.account !== null && fold(s.account) === fold(nick);
        if (err.code !== ErrorCode.NameInUse || !own) {
          return replyError(c, err, { command: 'NICK' });
        }
        await c.hub.accounts.takeOver(s, s.account as string);
        await c.hub.setName(s, nick).catch((again: unknown) => {
          if (!(again instanceof ChatError)) throw again;
          replyError(c, again, { command: 'NICK' });
        });
        if (fold(s.name) !== fold(nick)) return;
      }
      await tryRegister(c);
    },
  },
  {
    name: 'USER',
    minParams: 4,
    preRegistration: true,
    run(c, m) {
      const s = c.session;
      if (s.registered || c.state.gotUser) {
        return c.reply(ERR.ALREADYREGISTERED, 'You may not reregister');
      }
      const [user, , , realname] = m.params as [string, string, string, string];
      // Modern: an empty username or realname is refused like a missing one.
      if (user === '' || realname === '')
        return c.reply(ERR.NEEDMOREPARAMS, 'USER', 'Not enough parameters');
      s.user = cleanUsername(user);
      s.realname = cleanText(realname, c.hub.options.realnameLength);
      c.state.gotUser = true;
      return tryRegister(c);
    },
  },
  {
    name: 'PING',
    minParams: 0,
    preRegistration: true,
    run(c, m) {
      const token = m.params[0];
      if (token === undefined || token === '') return c.reply(ERR.NOORIGIN, 'No origin specified');
      c.fromServer('PONG', c.serverName, token);
    },
  },
  {
    name: 'PONG',
    minParams: 0,
    preRegistration: true,
    // Any input counts as a sign of life (see serveIrc); nothing else to do.
    run() {},
  },
  {
    name: 'QUIT',
    minParams: 0,
    preRegistration: true,
    run(c, m) {
      const reason = m.params[0];
      c.close(reason ? `Quit: ${reason}` : 'Quit');
    },
  },
];
