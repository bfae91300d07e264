/**
 * Channel membership and information: JOIN, PART, TOPIC, NAMES, LIST, KICK, INVITE
 * (RFC 2812 3.2). The hub enforces the rules; these handlers map them to IRC replies.
 */
import { ChatError } from '../../../core/errors.js';
import type { Room } from '../../../core/room.js';
import type { Session } from '../../../core/session.js';
import { Cap } from '../caps.js';
import type { IrcClient } from '../client.js';
import type { IrcCommand } from '../command.js';
import { isoTime } from '../encoder.js';
import { replyError } from '../errors.js';
import { ERR, RPL } from '../numerics.js';
import { MAX_TARGETS } from './welcome.js';

let historyBatch = 0;

/** Runs `fn`, turning a ChatError into its numeric; returns whether it succeeded. */
export function attempt(c: IrcClient, command: string, fn: () => void, channel?: string): boolean {
  try {
    fn();
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
export function prefixes(room: Room, s: Session, multi: boolean): string {
  const op = room.isOp(s);
  const voice = room.isVoiced(s);
  if (multi) return (op ? '@' : '') + (voice ? '+' : '');
  return op ? '@' : voice ? '+' : '';
}

/** RPL_NAMREPLY lines (each kept within 512 bytes) then RPL_ENDOFNAMES (RFC 2812 3.2.5). */
export function sendNames(c: IrcClient, room: Room): void {
  const multi = c.has(Cap.MultiPrefix);
  const full = c.has(Cap.UserhostInNames);
  const member = room.members.has(c.session);
  const symbol = room.modes.secret ? '@' : '=';
  const head = `:${c.serverName} ${RPL.NAMREPLY} ${c.nick} ${symbol} ${room.name} :`;
  const budget = 510 - Buffer.byteLength(head);
  let cur = '';
  for (const s of room.members.keys()) {
    // Invisible (+i) people are listed only to those who share the channel.
    if (!member && s.umodes.includes('i')) continue;
    const name = prefixes(room, s, multi) + (full ? s.mask : s.name);
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

/**
 * Recent history on join, for clients that can tell it is history: only with server-time,
 * and inside a `chathistory` batch when the client speaks batch.
 */
async function replayHistory(c: IrcClient, room: Room): Promise<void> {
  const limit = c.hub.options.historyOnJoin;
  if (limit <= 0 || !c.has(Cap.ServerTime)) return;
  const entries = await c.hub.history(room.name, limit);
  if (entries.length === 0 || c.session.closed) return;
  const batch = c.has(Cap.Batch) ? `h${(++historyBatch).toString(36)}` : null;
  if (batch) c.sendLine(`:${c.serverName} BATCH +${batch} chathistory ${room.name}`);
  for (const e of entries) {
    const tags = [`time=${isoTime(e.ts)}`];
    if (batch) tags.unshift(`batch=${batch}`);
    if (c.has(Cap.MessageTags)) tags.push(`msgid=${e.id}`);
    const verb = e.kind === 'notice' ? 'NOTICE' : 'PRIVMSG';
    const text = e.kind === 'me' ? `\x01ACTION ${e.text}\x01` : e.text;
    c.sendLine(`@${tags.join(';')} :${e.mask} ${verb} ${room.name} :${text}`);
  }
  if (batch) c.sendLine(`:${c.serverName} BATCH -${batch}`);
}

async function join(c: IrcClient, channels: string[], keys: string[]): Promise<void> {
  const hub = c.hub;
  for (let i = 0; i < channels.length; i++) {
    const name = channels[i] as string;
    if (hub.room(name)?.members.has(c.session)) continue; // RFC: joining again is ignored
    let room: Room | null = null;
    if (!attempt(c, 'JOIN', () => (room = hub.join(c.session, name, keys[i]).room))) continue;
    // The hub has already sent our own JOIN (the bus is synchronous); topic and names follow.
    const joined = room as unknown as Room;
    sendTopic(c, joined, false);
    sendNames(c, joined);
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
        for (const room of [...c.session.rooms]) c.hub.part(c.session, room.name, '');
        return;
      }
      await join(c, list(m.params[0]), list(m.params[1]));
    },
  },
  {
    name: 'PART',
    minParams: 1,
    run(c, m) {
      for (const name of list(m.params[0])) {
        attempt(c, 'PART', () => c.hub.part(c.session, name, m.params[1] ?? ''));
      }
    },
  },
  {
    name: 'TOPIC',
    minParams: 1,
    run(c, m) {
      const name = m.params[0] as string;
      const room = c.hub.room(name);
      if (!room) return c.reply(ERR.NOSUCHCHANNEL, name, 'No such channel');
      const member = room.members.has(c.session);
      if (m.params.length < 2) {
        if (!member && room.modes.secret) {
          return c.reply(ERR.NOTONCHANNEL, room.name, "You're not on that channel");
        }
        return sendTopic(c, room, true);
      }
      attempt(c, 'TOPIC', () => c.hub.setTopic(c.session, room.name, m.params[1] as string));
    },
  },
  {
    name: 'NAMES',
    minParams: 0,
    run(c, m) {
      const names = list(m.params[0]);
      // Without a channel, answer only the end (modern: servers MAY list nothing).
      if (names.length === 0) return c.reply(RPL.ENDOFNAMES, '*', 'End of /NAMES list');
      for (const name of names) {
        const room = c.hub.room(name);
        if (room && (!room.modes.secret || room.members.has(c.session))) sendNames(c, room);
        else c.reply(RPL.ENDOFNAMES, name, 'End of /NAMES list');
      }
    },
  },
  {
    name: 'LIST',
    minParams: 0,
    run(c, m) {
      const wanted = list(m.params[0]);
      const rooms = wanted.length
        ? wanted.map((n) => c.hub.room(n)).filter((r): r is Room => r !== undefined)
        : c.hub.roomList();
      c.reply(RPL.LISTSTART, 'Channel', 'Users  Name');
      for (const room of rooms) {
        // Secret channels are listed only to their members (RFC 2812 3.2.6).
        if (room.modes.secret && !room.members.has(c.session)) continue;
        const modes = room.modeString(false).modes;
        c.reply(RPL.LIST, room.name, String(room.members.size), `[${modes}] ${room.topic}`);
      }
      c.reply(RPL.LISTEND, 'End of /LIST');
    },
  },
  {
    name: 'KICK',
    minParams: 2,
    run(c, m) {
      const rooms = list(m.params[0]);
      const users = list(m.params[1]);
      if (users.length > MAX_TARGETS) {
        return c.reply(ERR.TOOMANYTARGETS, m.params[1] as string, 'Too many targets');
      }
      const reason = m.params[2] ?? '';
      // RFC 2812 3.2.8: one channel and several users, or as many channels as users.
      users.forEach((user, i) => {
        const room = rooms.length === 1 ? (rooms[0] as string) : rooms[i];
        if (room === undefined) return c.reply(ERR.NEEDMOREPARAMS, 'KICK', 'Not enough parameters');
        attempt(c, 'KICK', () => c.hub.kick(c.session, room, user, reason), room);
      });
    },
  },
  {
    name: 'INVITE',
    minParams: 2,
    run(c, m) {
      const [nick, channel] = m.params as [string, string];
      let target: Session | null = null;
      const ok = attempt(
        c,
        'INVITE',
        () => (target = c.hub.invite(c.session, nick, channel)),
        channel,
      );
      if (!ok || !target) return;
      const t = target as Session;
      c.reply(RPL.INVITING, t.name, channel);
      if (t.away !== null) c.reply(RPL.AWAY, t.name, t.away);
    },
  },
];
