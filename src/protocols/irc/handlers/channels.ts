/**
 * Channel membership and information: JOIN, PART, TOPIC, NAMES, LIST, KICK, INVITE
 * (RFC 2812 3.2). The hub enforces the rules; these handlers map them to IRC replies.
 * Replies that follow an event (RPL_TOPIC and NAMES after our own JOIN) are sent after
 * awaiting the operation, whose promise settles once the JOIN was delivered.
 */
import { mayList, seesInvisible } from '../../../core/access.js';
import { ChatError } from '../../../core/errors.js';
import type { MemberInfo } from '../../../core/ports.js';
import type { Room } from '../../../core/room.js';
import { Cap } from '../caps.js';
import type { IrcClient } from '../client.js';
import type { IrcCommand } from '../command.js';
import { replyError } from '../errors.js';
import { FLAG_LETTERS } from '../mode-letters.js';
import { ERR, RPL } from '../numerics.js';
import { replayHistory } from '../replay.js';
import { sendJoinMarker } from './read-marker.js';

/**
 * Runs `fn`, turning a ChatError into its numeric; resolves to whether it succeeded.
 * Every chat operation is asynchronous (its event may cross the bus first).
 */
export async function attempt(
  c: IrcClient,
  command: string,
  fn: () => unknown,
  channel?: string,
): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    if (!(err instanceof ChatError)) throw err;
    replyError(c, err, { command, ...(channel !== undefined ? { channel } : {}) });
    return false;
  }
}

export function list(param: string | undefined): string[] {
  return (param ?? '').split(',').filter(Boolean);
}

/** `@`/`+` for one member; multi-prefix shows every prefix, highest first. */
export function prefixes(op: boolean, voice: boolean, multi: boolean): string {
  if (multi) return (op ? '@' : '') + (voice ? '+' : '');
  return op ? '@' : voice ? '+' : '';
}

/** The mode string as RPL_CHANNELMODEIS shows it ("+ntk key"; the key only to members). */
export function modeString(room: Room, showKey: boolean): { modes: string; params: string[] } {
  let modes = '+';
  const params: string[] = [];
  const m = room.modes;
  for (const flag of ['inviteOnly', 'moderated', 'noExternal', 'secret', 'topicLocked'] as const) {
    if (m[flag]) modes += FLAG_LETTERS[flag];
  }
  if (m.key !== null) {
    modes += 'k';
    params.push(showKey ? m.key : '*');
  }
  if (m.limit > 0) {
    modes += 'l';
    params.push(String(m.limit));
  }
  return { modes, params };
}

/** RPL_NAMREPLY lines (each kept within 512 bytes) then RPL_ENDOFNAMES (RFC 2812 3.2.5). */
export async function sendNames(c: IrcClient, room: Room): Promise<void> {
  const multi = c.has(Cap.MultiPrefix);
  const full = c.has(Cap.UserhostInNames);
  // Invisible (+i) people are listed only to those who share the channel.
  const all = seesInvisible(c.session, room);
  const members: MemberInfo[] = (await c.hub.presence.members(room.name)) ?? [];
  const symbol = room.modes.secret ? '@' : '=';
  const head = `:${c.serverName} ${RPL.NAMREPLY} ${c.nick} ${symbol} ${room.name} :`;
  const budget = 510 - Buffer.byteLength(head);
  let cur = '';
  for (const m of members) {
    if (!all && m.person.invisible) continue;
    const p = m.person;
    const name = prefixes(m.op, m.voice, multi) + (full ? `${p.name}!${p.user}@${p.host}` : p.name);
    if (cur && cur.length + 1 + name.length > budget) {
      c.sendLine(head + cur);
      cur = name;
    } else cur = cur ? `${cur} ${name}` : name;
  }
  if (cur) c.sendLine(head + cur);
  c.reply(RPL.ENDOFNAMES, room.name, 'End of /NAMES list');
}

function sendTopic(c: IrcClient, room: Room, always: boolean): void {
  if (!room.topic) {
    if (always) c.reply(RPL.NOTOPIC, room.name, 'No topic is set');
    return;
  }
  c.reply(RPL.TOPIC, room.name, room.topic);
  c.reply(RPL.TOPICWHOTIME, room.name, room.topicBy, String(Math.floor(room.topicAt / 1000)));
}

async function join(c: IrcClient, channels: string[], keys: string[]): Promise<void> {
  const hub = c.hub;
  for (let i = 0; i < channels.length; i++) {
    let name = channels[i] as string;
    if (hub.room(name)?.has(c.session)) continue; // RFC: joining again is ignored
    const past = await hub.renames.redirect(c.session, name).catch(() => null);
    if (past) {
      // draft/channel-rename's redirection: with the capability, FAIL and the client
      // decides; without it, 470 (ERR_LINKCHANNEL) and the join of the new name.
      if (c.has(Cap.ChannelRename)) {
        c.fail('JOIN', 'CHANNEL_RENAMED', name, past.to, 'The channel has been renamed');
        continue;
      }
      c.reply(ERR.LINKCHANNEL, name, past.to, `${name} has been renamed to ${past.to}`);
      name = past.to;
      if (hub.room(name)?.has(c.session)) continue;
    }
    let room: Room | null = null;
    const ok = await attempt(c, 'JOIN', async () => {
      room = (await hub.join(c.session, name, keys[i])).room;
    });
    if (!ok || !room) continue;
    // Our own JOIN has been delivered by now; topic and names follow it.
    const joined = room as Room;
    sendTopic(c, joined, false);
    await sendJoinMarker(c, joined);
    await sendNames(c, joined);
    await replayHistory(c, joined);
  }
}

export const channels: IrcCommand[] = [
  {
    name: 'JOIN',
    minParams: 1,
    async run(c, m) {
      // JOIN 0 leaves every channel (RFC 2812 3.2.1).
      if (m.params[0] === '0') {
        for (const room of [...c.session.rooms]) await c.hub.part(c.session, room.name, '');
        return;
      }
      await join(c, list(m.params[0]), list(m.params[1]));
    },
  },
  {
    name: 'PART',
    minParams: 1,
    async run(c, m) {
      for (const name of list(m.params[0])) {
        await attempt(c, 'PART', () => c.hub.part(c.session, name, m.params[1] ?? ''));
      }
    },
  },
  {
    name: 'TOPIC',
    minParams: 1,
    async run(c, m) {
      const name = m.params[0] as string;
      const room = c.hub.room(name);
      if (!room || !mayList(c.session, room)) {
        return c.reply(ERR.NOSUCHCHANNEL, name, 'No such channel');
      }
      if (m.params.length < 2) {
        if (!room.has(c.session) && room.modes.secret) {
          return c.reply(ERR.NOTONCHANNEL, room.name, "You're not on that channel");
        }
        return sendTopic(c, room, true);
      }
      await attempt(c, 'TOPIC', () =>
        c.hub.membership.setTopic(c.session, room.name, m.params[1] as string),
      );
    },
  },
  {
    name: 'NAMES',
    minParams: 0,
    async run(c, m) {
      const names = list(m.params[0]);
      // Without a channel, answer only the end (modern: servers MAY list nothing).
      if (names.length === 0) return c.reply(RPL.ENDOFNAMES, '*', 'End of /NAMES list');
      for (const name of names) {
        const room = c.hub.room(name);
        if (room && mayList(c.session, room)) await sendNames(c, room);
        else c.reply(RPL.ENDOFNAMES, name, 'End of /NAMES list');
      }
    },
  },
  {
    name: 'LIST',
    minParams: 0,
    async run(c, m) {
      const wanted = list(m.params[0]).map((n) => n.toLowerCase());
      const rooms = await c.hub.presence.rooms();
      c.reply(RPL.LISTSTART, 'Channel', 'Users  Name');
      for (const info of rooms) {
        if (wanted.length > 0 && !wanted.includes(info.name.toLowerCase())) continue;
        const room = c.hub.room(info.name);
        // Secret channels are listed only to their members (RFC 2812 3.2.6).
        if (room ? !mayList(c.session, room) : info.secret && !c.session.oper) continue;
        const modes = room ? modeString(room, false).modes : '+';
        c.reply(RPL.LIST, info.name, String(info.members), `[${modes}] ${info.topic}`);
      }
      c.reply(RPL.LISTEND, 'End of /LIST');
    },
  },
  {
    name: 'KICK',
    minParams: 2,
    async run(c, m) {
      const rooms = list(m.params[0]);
      const users = list(m.params[1]);
      if (users.length > c.hub.options.ircMaxTargets) {
        return c.reply(ERR.TOOMANYTARGETS, m.params[1] as string, 'Too many targets');
      }
      const reason = m.params[2] ?? '';
      // RFC 2812 3.2.8: one channel and several users, or as many channels as users.
      for (let i = 0; i < users.length; i++) {
        const user = users[i] as string;
        const room = rooms.length === 1 ? (rooms[0] as string) : rooms[i];
        if (room === undefined) {
          c.reply(ERR.NEEDMOREPARAMS, 'KICK', 'Not enough parameters');
          continue;
        }
        await attempt(c, 'KICK', () => c.hub.moderation.kick(c.session, room, user, reason), room);
      }
    },
  },
  {
    name: 'INVITE',
    minParams: 2,
    async run(c, m) {
      const [nick, channel] = m.params as [string, string];
      let target = '';
      const ok = await attempt(
        c,
        'INVITE',
        async () => (target = await c.hub.moderation.invite(c.session, nick, channel)),
        channel,
      );
      if (!ok || !target) return;
      c.reply(RPL.INVITING, target, channel);
      const person = await c.hub.presence.lookup(target);
      if (person?.away != null) c.reply(RPL.AWAY, person.name, person.away);
    },
  },
];
