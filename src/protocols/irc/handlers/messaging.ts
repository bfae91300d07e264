/**
 * PRIVMSG, NOTICE and TAGMSG to channels and nicks, with target lists (RFC 2812 3.3). CTCP ACTION
 * becomes the core's `me` kind, so line-protocol users see `* alice waves`. Client-only
 * tags (`+name`, IRCv3 message-tags) travel with the message to clients that asked.
 */
import type { DirectEvent, MessageKind } from '../../../core/events.js';
import type { IrcClient } from '../client.js';
import type { IrcCommand } from '../command.js';
import type { IrcMessage } from '../codec.js';
import { Cap } from '../caps.js';
import { ERR, RPL } from '../numerics.js';
import { attempt, list } from './channels.js';
import { nickServ } from './accounts.js';

const ACTION = /^\x01ACTION ?([^\x01]*)\x01?$/;

/**
 * A message to oneself with echo-message arrives twice, as the recipient's copy and as the
 * echo (IRCv3 echo-message); the hub delivers it once, as the echo, which a labeled
 * command labels. The recipient's copy goes straight to the socket, unlabeled.
 */
function selfCopy(c: IrcClient, event: DirectEvent): void {
  if (!c.has(Cap.EchoMessage) || event.to.toLowerCase() !== c.session.name.toLowerCase()) return;
  const data = c.session.encoder.encode(event, c.session);
  // Straight to the link (bounded like every write), outside the label's capture.
  if (data) c.link.write(data);
}

/** Client-only tags (`+name`) a client with message-tags sent, or undefined. */
export function clientTags(c: IrcClient, m: IrcMessage): Record<string, string> | undefined {
  if (!c.has(Cap.MessageTags)) return undefined;
  let out: Record<string, string> | undefined;
  for (const [k, v] of Object.entries(m.tags)) {
    if (k.startsWith('+')) (out ??= {})[k] = v;
  }
  return out;
}

async function send(c: IrcClient, m: IrcMessage, command: 'PRIVMSG' | 'NOTICE'): Promise<void> {
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
  if (targets.length > c.hub.options.ircMaxTargets) {
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
      await attempt(c, command, () => hub.messaging.say(c.session, target, text, kind, tags));
      continue;
    }
    await attempt(c, command, async () => {
      const { event, target: to } = await hub.messaging.dm(c.session, target, text, kind, tags);
      selfCopy(c, event);
      // RFC 2812 3.3.1: a PRIVMSG to someone away gets RPL_AWAY.
      if (!notice && to.away !== null) c.reply(RPL.AWAY, to.name, to.away);
    });
  }
}

/**
 * TAGMSG (IRCv3 message-tags): a message of client-only tags and no text, such as
 * `+typing` or `+draft/react`. Relayed like PRIVMSG to clients that negotiated
 * message-tags; never stored, never shown to line, framed or WebSocket users.
 */
async function tagmsg(c: IrcClient, m: IrcMessage): Promise<void> {
  const targets = list(m.params[0]);
  if (targets.length === 0) {
    c.reply(ERR.NORECIPIENT, 'No recipient given (TAGMSG)');
    return;
  }
  if (targets.length > c.hub.options.ircMaxTargets) {
    c.reply(ERR.TOOMANYTARGETS, m.params[0] as string, 'Too many recipients');
    return;
  }
  const tags = clientTags(c, m);
  const hub = c.hub;
  for (const target of targets) {
    if (target.startsWith('#')) {
      await attempt(c, 'TAGMSG', () => hub.messaging.say(c.session, target, '', 'tag', tags));
    } else {
      await attempt(c, 'TAGMSG', async () =>
        selfCopy(c, (await hub.messaging.dm(c.session, target, '', 'tag', tags)).event),
      );
    }
  }
}

export const messaging: IrcCommand[] = [
  { name: 'PRIVMSG', minParams: 0, run: (c, m) => send(c, m, 'PRIVMSG') },
  { name: 'NOTICE', minParams: 0, run: (c, m) => send(c, m, 'NOTICE') },
  { name: 'TAGMSG', minParams: 1, run: tagmsg },
];
