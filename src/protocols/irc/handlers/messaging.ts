/**
 * PRIVMSG and NOTICE to channels and nicks, with target lists (RFC 2812 3.3). CTCP ACTION
 * becomes the core's `me` kind, so line-protocol users see `* alice waves`. Client-only
 * tags (`+name`, IRCv3 message-tags) travel with the message to clients that asked.
 */
import type { MessageKind } from '../../../core/events.js';
import type { IrcClient } from '../client.js';
import type { IrcCommand } from '../command.js';
import type { IrcMessage } from '../codec.js';
import { Cap } from '../caps.js';
import { ERR, RPL } from '../numerics.js';
import { attempt, list } from './channels.js';
import { MAX_TARGETS } from './welcome.js';
import { nickServ } from './accounts.js';

const ACTION = /^\x01ACTION ?([^\x01]*)\x01?$/;

/** Client-only tags (`+name`) a client with message-tags sent, or undefined. */
export function clientTags(c: IrcClient, m: IrcMessage): Record<string, string> | undefined {
  if (!c.has(Cap.MessageTags)) return undefined;
  let out: Record<string, string> | undefined;
  for (const [k, v] of Object.entries(m.tags)) {
    if (k.startsWith('+')) (out ??= {})[k] = v;
  }
  return out;
}

function send(c: IrcClient, m: IrcMessage, command: 'PRIVMSG' | 'NOTICE'): void | Promise<void> {
  const notice = command === 'NOTICE';
  const targets = list(m.params[0]);
  if (targets.length === 0) {
    if (!notice) c.reply(ERR.NORECIPIENT, `No recipient given (${command})`);
    return;
  }
  const raw = m.params[1];
  if (raw === undefined || raw === '') {
    if (!notice) c.reply(ERR.NOTEXTTOSEND, 'No text to send');
    return;
  }
  if (targets.length > MAX_TARGETS) {
    if (!notice) c.reply(ERR.TOOMANYTARGETS, m.params[0] as string, 'Too many recipients');
    return;
  }
  let kind: MessageKind = notice ? 'notice' : 'say';
  let text = raw;
  const action = ACTION.exec(raw);
  if (action && !notice) {
    kind = 'me';
    text = action[1] as string;
  } else if (raw.startsWith('\x01')) {
    // Other CTCP (VERSION, PING...) cannot cross the core, which strips control
    // characters for every protocol; dropping beats delivering it as plain text.
    return;
  }
  const tags = clientTags(c, m);
  const hub = c.hub;
  for (const target of targets) {
    if (!notice && target.toLowerCase() === 'nickserv') {
      return nickServ(c, raw);
    }
    if (target.startsWith('#')) {
      attempt(c, command, () => hub.say(c.session, target, text, kind, tags));
      continue;
    }
    attempt(c, command, () => {
      const event = hub.dm(c.session, target, text, kind, tags);
      const to = hub.find(event.to);
      // RFC 2812 3.3.1: a PRIVMSG to someone away gets RPL_AWAY.
      if (!notice && to && to.away !== null) c.reply(RPL.AWAY, to.name, to.away);
    });
  }
}

export const messaging: IrcCommand[] = [
  { name: 'PRIVMSG', minParams: 0, run: (c, m) => send(c, m, 'PRIVMSG') },
  { name: 'NOTICE', minParams: 0, run: (c, m) => send(c, m, 'NOTICE') },
];
