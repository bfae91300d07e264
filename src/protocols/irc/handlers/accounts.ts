/**
 * Accounts over IRC: SASL PLAIN (ircv3.net/specs/extensions/sasl-3.1, numerics 900–908)
 * and a NickServ-style `PRIVMSG NickServ :REGISTER|IDENTIFY password`. Both use the hub's
 * AccountService, so the same accounts, throttling and grace-period rules hold as on the
 * line protocol.
 */
import { ChatError } from '../../../core/errors.js';
import type { IrcClient } from '../client.js';
import type { IrcCommand } from '../command.js';
import { Cap } from '../caps.js';

/** AUTHENTICATE payloads come in 400-byte base64 chunks; a whole one is at most this. */
const MAX_SASL_BYTES = 4000;

function saslFail(c: IrcClient, text = 'SASL authentication failed'): void {
  c.state.sasl = null;
  c.reply('904', text);
}

async function finishPlain(c: IrcClient, data: string): Promise<void> {
  c.state.sasl = null;
  const decoded = Buffer.from(data, 'base64').toString('utf8').split('\0');
  if (decoded.length !== 3) return saslFail(c);
  const [authzid, authcid, password] = decoded as [string, string, string];
  if (authzid && authzid !== authcid) return saslFail(c);
  let account: string | null;
  try {
    account = await c.hub.accounts.authenticate(c.remoteAddress, authcid, password);
  } catch (err) {
    if (err instanceof ChatError) return saslFail(c, err.message);
    throw err;
  }
  if (!account) return saslFail(c);
  const registered = c.session.registered;
  if (!registered) c.session.account = account;
  const mask = `${c.nick}!${c.session.user || '*'}@${c.session.host}`;
  c.reply('900', mask, account, `You are now logged in as ${account}`);
  c.reply('903', 'SASL authentication successful');
  // After registration the others are told (account-notify, extended-monitor), the client
  // too if it asked: after its own 900, which is the answer it waits for (irctest).
  if (registered) await c.hub.accounts.loggedIn(c.session, account);
}

function authenticate(c: IrcClient, arg: string): void | Promise<void> {
  if (!c.has(Cap.Sasl)) {
    c.reply('904', 'SASL authentication failed: request the sasl capability first');
    return;
  }
  if (c.session.account) {
    c.reply('907', 'You have already authenticated using SASL');
    return;
  }
  if (arg === '*') {
    c.state.sasl = null;
    c.reply('906', 'SASL authentication aborted');
    return;
  }
  const sasl = c.state.sasl;
  if (!sasl) {
    if (arg.toUpperCase() !== 'PLAIN') {
      c.reply('908', 'PLAIN', 'are available SASL mechanisms');
      return saslFail(c);
    }
    c.state.sasl = { mechanism: 'PLAIN', data: '' };
    c.sendLine('AUTHENTICATE +');
    return;
  }
  // One AUTHENTICATE longer than a chunk is 905 (ERR_SASLTOOLONG, sasl-3.1); a payload
  // of many chunks beyond what PLAIN could need is a failed attempt (904, as ergo does).
  if (arg.length > 400) {
    c.reply('905', 'SASL message too long');
    c.state.sasl = null;
    return;
  }
  if (arg !== '+') sasl.data += arg;
  if (sasl.data.length > MAX_SASL_BYTES) return saslFail(c, 'SASL message too long');
  // A 400-byte chunk means more follows; anything shorter (or '+') ends the payload.
  if (arg.length === 400) return;
  return finishPlain(c, sasl.data);
}

/** `PRIVMSG NickServ :REGISTER pw` / `IDENTIFY [name] pw`: answered by NOTICE from NickServ. */
export async function nickServ(c: IrcClient, text: string): Promise<void> {
  const say = (msg: string) =>
    c.sendLine(`:NickServ!services@${c.serverName} NOTICE ${c.nick} :${msg}`);
  const [verb = '', ...args] = text.trim().split(/\s+/);
  try {
    switch (verb.toUpperCase()) {
      case 'REGISTER':
        if (!args[0]) return say('Syntax: REGISTER <password>');
        await c.hub.accounts.register(c.session, args[0]);
        return say(`${c.nick} is now registered to you.`);
      case 'IDENTIFY': {
        if (!args[0]) return say('Syntax: IDENTIFY [account] <password>');
        const account =
          args.length >= 2
            ? await c.hub.accounts.identify(c.session, args[1] as string, args[0])
            : await c.hub.accounts.identify(c.session, args[0]);
        return say(`You are now identified as ${account}.`);
      }
      case 'GHOST':
      case 'REGAIN': {
        // Atheme/Anope: GHOST ends the connection holding your nick; REGAIN also takes it.
        const take = verb.toUpperCase() === 'REGAIN';
        if (args.length < 2) return say(`Syntax: ${verb.toUpperCase()} <nick> <password>`);
        const nick = await c.hub.accounts.reclaim(
          c.session,
          args[0] as string,
          args.slice(1).join(' '),
          take,
        );
        return say(take ? `You have regained ${nick}.` : `${nick} has been ghosted.`);
      }
      default:
        return say(
          'Commands: REGISTER <password>, IDENTIFY [account] <password>, GHOST <nick> <password>, REGAIN <nick> <password>',
        );
    }
  } catch (err) {
    if (err instanceof ChatError) return say(err.message);
    throw err;
  }
}

export const accounts: IrcCommand[] = [
  {
    name: 'AUTHENTICATE',
    minParams: 1,
    preRegistration: true,
    run: (c, m) => authenticate(c, m.params[0] as string),
  },
];
