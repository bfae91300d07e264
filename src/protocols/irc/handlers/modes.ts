/**
 * MODE for channels and users (RFC 2812 3.1.5, 3.2.3; modern.ircdocs.horse "MODE").
 * Channel modes follow ISUPPORT CHANMODES=b,k,l,imnst and PREFIX=(ov)@+: b takes a
 * parameter both ways (none lists the bans), k and l take one when set, o and v always.
 * Problems are checked here first, so one bad change gets one numeric and the valid
 * ones still apply as a single MODE line.
 */
import { mayList } from '../../../core/access.js';
import { KEY } from '../../../core/moderation.js';
import { fold } from '../../../core/names.js';
import type { Room, RoomChange } from '../../../core/room.js';
import type { IrcClient } from '../client.js';
import type { IrcCommand } from '../command.js';
import { LETTER_FLAGS } from '../mode-letters.js';
import { ERR, RPL } from '../numerics.js';
import { attempt, modeString } from './channels.js';
import { BOT_MODE, umodes } from './welcome.js';

const ALWAYS_PARAM = new Set(['b', 'o', 'v']);
const PARAM_WHEN_SET = new Set(['k', 'l']);
/** What IRC may echo of a refused parameter: printable, no space (not the key rule). */
const SHOWABLE = /^[\x21-\x7e]{1,23}$/;

function sendModeIs(c: IrcClient, room: Room): void {
  const { modes, params } = modeString(room, room.has(c.session) || c.session.oper);
  c.reply(RPL.CHANNELMODEIS, room.name, modes, ...params);
  c.reply(RPL.CREATIONTIME, room.name, String(Math.floor(room.createdAt / 1000)));
}

function sendBans(c: IrcClient, room: Room): void {
  for (const b of room.bans) {
    c.reply(RPL.BANLIST, room.name, b.mask, b.by || c.serverName, String(Math.floor(b.at / 1000)));
  }
  c.reply(RPL.ENDOFBANLIST, room.name, 'End of channel ban list');
}

/** True when `name` is a member of `room` (on this node or another). */
async function isMember(c: IrcClient, room: Room, name: string): Promise<string | null> {
  const person = await c.hub.presence.lookup(name);
  if (!person) return null;
  const local = c.hub.sessions.named(person.name);
  return (local && room.has(local)) || room.remote.has(fold(person.name)) ? person.name : '';
}

async function channelMode(
  c: IrcClient,
  room: Room,
  modeString: string,
  args: string[],
): Promise<void> {
  const s = c.session;
  const changes: RoomChange[] = [];
  let set = true;
  let withParam = 0;
  let listBans = false;
  let needOp = false;
  const rejected: (() => void)[] = [];
  for (const ch of modeString) {
    if (ch === '+' || ch === '-') {
      set = ch === '+';
      continue;
    }
    if (ALWAYS_PARAM.has(ch) || (set && PARAM_WHEN_SET.has(ch))) {
      const arg = args.shift();
      if (ch === 'b' && arg === undefined) {
        listBans = true;
        continue;
      }
      needOp = true;
      if (arg === undefined || ++withParam > c.hub.options.ircMaxModes) continue; // modern: ignore silently
      if (ch === 'k') {
        if (!KEY.test(arg)) {
          // The key is not echoed: it may be empty or hold spaces (modern: "*" instead).
          rejected.push(() =>
            c.reply(
              ERR.INVALIDMODEPARAM,
              room.name,
              'k',
              '*',
              'Invalid key: 1 to 23 characters, no spaces or commas, not starting with ":"',
            ),
          );
          continue;
        }
        changes.push({ kind: 'key', key: arg });
      } else if (ch === 'l') {
        if (!/^[1-9][0-9]{0,8}$/.test(arg)) {
          const shown = SHOWABLE.test(arg) && !arg.startsWith(':') ? arg : '*';
          rejected.push(() =>
            c.reply(
              ERR.INVALIDMODEPARAM,
              room.name,
              'l',
              shown,
              'Invalid limit: a positive number',
            ),
          );
          continue;
        }
        changes.push({ kind: 'limit', limit: Number(arg) });
      } else if (ch === 'o' || ch === 'v') {
        const name = await isMember(c, room, arg);
        if (name === null) {
          rejected.push(() => c.reply(ERR.NOSUCHNICK, arg, 'No such nick/channel'));
          continue;
        }
        if (name === '') {
          rejected.push(() =>
            c.reply(ERR.USERNOTINCHANNEL, arg, room.name, "They aren't on that channel"),
          );
          continue;
        }
        changes.push({ kind: 'role', role: ch === 'o' ? 'op' : 'voice', name, on: set });
      } else {
        changes.push({ kind: 'ban', mask: arg, on: set });
      }
    } else if (ch === 'k' || ch === 'l') {
      needOp = true;
      // -k takes the key as a parameter in RFC 1459; accept and ignore it.
      if (ch === 'k' && args.length > 0) args.shift();
      changes.push(ch === 'k' ? { kind: 'key', key: null } : { kind: 'limit', limit: 0 });
    } else if (LETTER_FLAGS[ch] !== undefined) {
      needOp = true;
      changes.push({ kind: 'flag', flag: LETTER_FLAGS[ch], on: set });
    } else {
      rejected.push(() => c.reply(ERR.UNKNOWNMODE, ch, 'is unknown mode char to me'));
    }
  }
  if (listBans) sendBans(c, room);
  if (needOp && !s.oper && !room.isOp(s)) {
    // One refusal for the whole command, before any detail about its parameters.
    if (!room.has(s)) return c.reply(ERR.NOTONCHANNEL, room.name, "You're not on that channel");
    return c.reply(ERR.CHANOPRIVSNEEDED, room.name, "You're not channel operator");
  }
  for (const r of rejected) r();
  if (changes.length > 0)
    await attempt(c, 'MODE', () => c.hub.moderation.change(s, room.name, changes), room.name);
}

async function userMode(c: IrcClient, nick: string, modeString: string | undefined): Promise<void> {
  const s = c.session;
  const target = await c.hub.presence.lookup(nick);
  if (!target) return c.reply(ERR.NOSUCHNICK, nick, 'No such nick/channel');
  if (target.origin !== s.id)
    return c.reply(ERR.USERSDONTMATCH, "Can't change mode for other users");
  if (modeString === undefined) return c.reply(RPL.UMODEIS, `+${umodes(s)}`);
  let set = true;
  let added = '';
  let removed = '';
  let unknown = false;
  const flags = { i: 'invisible', w: 'wallops', o: 'oper', [BOT_MODE]: 'bot' } as const;
  for (const ch of modeString) {
    if (ch === '+' || ch === '-') {
      set = ch === '+';
      continue;
    }
    if (ch === 'i' || ch === 'w' || ch === BOT_MODE || (ch === 'o' && !set)) {
      // -o drops server operator powers too (RFC 2812 3.1.5).
      if (c.hub.sessions.setFlag(s, flags[ch], set)) {
        if (set) added += ch;
        else removed += ch;
      }
    } else if (ch !== 'o') {
      // +o only comes from OPER; any other letter is unknown.
      unknown = true;
    }
  }
  if (unknown) c.reply(ERR.UMODEUNKNOWNFLAG, 'Unknown MODE flag');
  const change = (added ? `+${added}` : '') + (removed ? `-${removed}` : '');
  if (change) c.sendLine(`:${s.mask} MODE ${s.name} :${change}`);
}

export const modes: IrcCommand[] = [
  {
    name: 'MODE',
    minParams: 1,
    async run(c, m) {
      const [target, modeString, ...args] = m.params as [string, ...string[]];
      if (!target.startsWith('#')) return userMode(c, target, modeString);
      const room = c.hub.room(target);
      // The access policy: a secret channel is no channel to outsiders.
      if (!room || !mayList(c.session, room)) {
        return c.reply(ERR.NOSUCHCHANNEL, target, 'No such channel');
      }
      if (modeString === undefined) return sendModeIs(c, room);
      await channelMode(c, room, modeString, args);
    },
  },
];
