/**
 * MODE for channels and users (RFC 2812 3.1.5, 3.2.3; modern.ircdocs.horse "MODE").
 * Channel modes follow ISUPPORT CHANMODES=b,k,l,imnst and PREFIX=(ov)@+: b takes a
 * parameter both ways (none lists the bans), k and l take one when set, o and v always.
 * Problems are checked here first, so one bad change gets one numeric and the valid
 * ones still apply as a single MODE line.
 */
import type { ModeChange } from '../../../core/hub.js';
import type { Room } from '../../../core/room.js';
import type { IrcClient } from '../client.js';
import type { IrcCommand } from '../command.js';
import { ERR, RPL } from '../numerics.js';
import { attempt } from './channels.js';
import { MAX_MODES } from './welcome.js';

const ALWAYS_PARAM = new Set(['b', 'o', 'v']);
const PARAM_WHEN_SET = new Set(['k', 'l']);
const FLAGS = new Set(['i', 'm', 'n', 's', 't']);
/** RFC 2812 2.3.1 `key`: 1 to 23 printable ASCII characters, no space. */
const KEY = /^[\x21-\x7e]{1,23}$/;

function sendModeIs(c: IrcClient, room: Room): void {
  const { modes, params } = room.modeString(room.members.has(c.session) || c.session.oper);
  c.reply(RPL.CHANNELMODEIS, room.name, modes, ...params);
  c.reply(RPL.CREATIONTIME, room.name, String(Math.floor(room.createdAt / 1000)));
}

function sendBans(c: IrcClient, room: Room): void {
  for (const b of room.bans) {
    c.reply(RPL.BANLIST, room.name, b.mask, b.by || c.serverName, String(Math.floor(b.at / 1000)));
  }
  c.reply(RPL.ENDOFBANLIST, room.name, 'End of channel ban list');
}

function channelMode(c: IrcClient, room: Room, modeString: string, args: string[]): void {
  const s = c.session;
  const changes: ModeChange[] = [];
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
      if (arg === undefined || ++withParam > MAX_MODES) continue; // modern: ignore silently
      if (ch === 'k' && !KEY.test(arg)) {
        // The key is not echoed: it may be empty or hold spaces (modern: "*" instead).
        rejected.push(() =>
          c.reply(
            ERR.INVALIDMODEPARAM,
            room.name,
            'k',
            '*',
            'Invalid key: 1 to 23 characters, no spaces',
          ),
        );
        continue;
      }
      if (ch === 'l' && !/^[1-9][0-9]{0,8}$/.test(arg)) {
        const shown = /^[\x21-\x7e]{1,23}$/.test(arg) ? arg : '*';
        rejected.push(() =>
          c.reply(ERR.INVALIDMODEPARAM, room.name, 'l', shown, 'Invalid limit: a positive number'),
        );
        continue;
      }
      if (ch === 'o' || ch === 'v') {
        const target = c.hub.find(arg);
        if (!target) {
          rejected.push(() => c.reply(ERR.NOSUCHNICK, arg, 'No such nick/channel'));
          continue;
        }
        if (!room.members.has(target)) {
          rejected.push(() =>
            c.reply(ERR.USERNOTINCHANNEL, target.name, room.name, "They aren't on that channel"),
          );
          continue;
        }
      }
      changes.push({ set, mode: ch, arg });
    } else if (PARAM_WHEN_SET.has(ch) || FLAGS.has(ch)) {
      needOp = true;
      // -k takes the key as a parameter in RFC 1459; accept and ignore it.
      if (ch === 'k' && args.length > 0) args.shift();
      changes.push({ set, mode: ch });
    } else {
      rejected.push(() => c.reply(ERR.UNKNOWNMODE, ch, 'is unknown mode char to me'));
    }
  }
  if (listBans) sendBans(c, room);
  if (needOp && !s.oper && !room.isOp(s)) {
    // One refusal for the whole command, before any detail about its parameters.
    if (!room.members.has(s))
      return c.reply(ERR.NOTONCHANNEL, room.name, "You're not on that channel");
    return c.reply(ERR.CHANOPRIVSNEEDED, room.name, "You're not channel operator");
  }
  for (const r of rejected) r();
  if (changes.length > 0)
    attempt(c, 'MODE', () => c.hub.setRoomModes(s, room.name, changes), room.name);
}

function userMode(c: IrcClient, nick: string, modeString: string | undefined): void {
  const s = c.session;
  const target = c.hub.find(nick);
  if (!target) return c.reply(ERR.NOSUCHNICK, nick, 'No such nick/channel');
  if (target !== s) return c.reply(ERR.USERSDONTMATCH, "Can't change mode for other users");
  if (modeString === undefined) return c.reply(RPL.UMODEIS, `+${s.umodes}`);
  let set = true;
  let added = '';
  let removed = '';
  let unknown = false;
  for (const ch of modeString) {
    if (ch === '+' || ch === '-') {
      set = ch === '+';
      continue;
    }
    if (ch === 'i' || ch === 'w' || (ch === 'o' && !set)) {
      if (c.hub.setUserMode(s, ch, set)) {
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
    run(c, m) {
      const [target, modeString, ...args] = m.params as [string, ...string[]];
      if (!target.startsWith('#')) return userMode(c, target, modeString);
      const room = c.hub.room(target);
      if (!room) return c.reply(ERR.NOSUCHCHANNEL, target, 'No such channel');
      if (modeString === undefined) return sendModeIs(c, room);
      channelMode(c, room, modeString, args);
    },
  },
];
