/**
 * User queries (RFC 2812 3.6, 4.8, 4.9; modern.ircdocs.horse): WHO (with WHOX), WHOIS,
 * WHOWAS, ISON, USERHOST, and the server queries MOTD, LUSERS, VERSION, INFO, TIME. Also AWAY.
 * Invisible people (+i) show up only to those sharing a channel, and to operators.
 */
import { maskMatches } from '../../../core/names.js';
import type { Room } from '../../../core/room.js';
import type { Session } from '../../../core/session.js';
import { Cap } from '../caps.js';
import type { IrcClient } from '../client.js';
import type { IrcCommand } from '../command.js';
import { ERR, RPL } from '../numerics.js';
import { list, prefixes } from './channels.js';
import { VERSION, sendIsupport, sendLusers, sendMotd } from './welcome.js';

function sharesRoom(a: Session, b: Session): boolean {
  for (const r of a.rooms) if (r.members.has(b)) return true;
  return false;
}

function visibleTo(viewer: Session, s: Session): boolean {
  return viewer === s || viewer.oper || !s.umodes.includes('i') || sharesRoom(viewer, s);
}

/** A channel of `s` to show beside it in WHO, or '*' (none that the viewer may see). */
function someRoom(viewer: Session, s: Session): Room | null {
  for (const r of s.rooms) if (!r.modes.secret || r.members.has(viewer)) return r;
  return null;
}

// ---- WHO ------------------------------------------------------------------------------

/** WHOX field letters in the order the reply carries them (ircv3 WHOX, "%tcuihsnfdlaor"). */
const WHOX_ORDER = 'tcuihsnfdlaor';

function whoFlags(c: IrcClient, s: Session, room: Room | null): string {
  let flags = s.away !== null ? 'G' : 'H';
  if (s.oper) flags += '*';
  if (room) flags += prefixes(room, s, c.has(Cap.MultiPrefix));
  return flags;
}

function whoReply(
  c: IrcClient,
  s: Session,
  room: Room | null,
  whox: string | null,
  token: string,
): void {
  const channel = room ? room.name : '*';
  const flags = whoFlags(c, s, room);
  if (whox === null) {
    c.reply(RPL.WHOREPLY, channel, s.user, s.host, c.serverName, s.name, flags, `0 ${s.realname}`);
    return;
  }
  const fields: string[] = [];
  for (const ch of WHOX_ORDER) {
    if (!whox.includes(ch)) continue;
    switch (ch) {
      case 't':
        fields.push(token);
        break;
      case 'c':
        fields.push(channel);
        break;
      case 'u':
        fields.push(s.user);
        break;
      case 'i':
        fields.push(c.session.oper || c.session === s ? s.host : '255.255.255.255');
        break;
      case 'h':
        fields.push(s.host);
        break;
      case 's':
        fields.push(c.serverName);
        break;
      case 'n':
        fields.push(s.name);
        break;
      case 'f':
        fields.push(flags);
        break;
      case 'd':
        fields.push('0');
        break;
      case 'l':
        fields.push(String(Math.floor((c.hub.clock.now() - s.lastActive) / 1000)));
        break;
      case 'a':
        fields.push(s.account ?? '0');
        break;
      case 'o':
        fields.push('n/a');
        break;
      case 'r':
        fields.push(s.realname);
        break;
    }
  }
  c.reply(RPL.WHOSPCRPL, ...fields);
}

function who(c: IrcClient, mask: string, options: string): void {
  const viewer = c.session;
  const [flags = '', whoxFields] = options.split('%', 2) as [string, string | undefined];
  const whox = whoxFields === undefined ? null : (whoxFields.split(',')[0] ?? '');
  const token = whoxFields?.split(',')[1] ?? '0';
  const opersOnly = flags.includes('o');
  const wanted = (s: Session): boolean => !opersOnly || s.oper;
  if (mask.startsWith('#')) {
    const room = c.hub.room(mask);
    if (room && (!room.modes.secret || room.members.has(viewer))) {
      const member = room.members.has(viewer);
      for (const s of room.members.keys()) {
        if ((member || visibleTo(viewer, s)) && wanted(s)) whoReply(c, s, room, whox, token);
      }
    }
  } else {
    const all = mask === '' || mask === '*' || mask === '0';
    const direct = all ? undefined : c.hub.find(mask);
    const matches = direct
      ? [direct]
      : c.hub
          .users()
          .filter(
            (s) =>
              (all ||
                maskMatches(mask, s.name) ||
                maskMatches(mask, s.user) ||
                maskMatches(mask, s.host) ||
                maskMatches(mask, s.realname)) &&
              (direct !== undefined || visibleTo(viewer, s)),
          );
    for (const s of matches) {
      if (wanted(s)) whoReply(c, s, someRoom(viewer, s), whox, token);
    }
  }
  c.reply(RPL.ENDOFWHO, mask || '*', 'End of WHO list');
}

// ---- WHOIS / WHOWAS -------------------------------------------------------------------

function whois(c: IrcClient, nick: string): void {
  const s = c.hub.find(nick);
  if (!s) {
    c.reply(ERR.NOSUCHNICK, nick, 'No such nick/channel');
    c.reply(RPL.ENDOFWHOIS, nick, 'End of /WHOIS list');
    return;
  }
  const viewer = c.session;
  c.reply(RPL.WHOISUSER, s.name, s.user, s.host, '*', s.realname);
  const rooms = [...s.rooms]
    .filter((r) => !r.modes.secret || r.members.has(viewer) || viewer.oper)
    .map((r) => prefixes(r, s, c.has(Cap.MultiPrefix)) + r.name);
  if (rooms.length > 0) c.reply(RPL.WHOISCHANNELS, s.name, rooms.join(' '));
  c.reply(RPL.WHOISSERVER, s.name, c.serverName, 'Plugboard');
  if (s.oper) c.reply(RPL.WHOISOPERATOR, s.name, 'is an IRC operator');
  if (s.account) c.reply(RPL.WHOISACCOUNT, s.name, s.account, 'is logged in as');
  if (s.conn.secure) c.reply(RPL.WHOISSECURE, s.name, 'is using a secure connection');
  if (viewer === s || viewer.oper) {
    c.reply(RPL.WHOISHOST, s.name, `is connecting from *@${s.host} ${s.host}`);
  }
  if (s.away !== null) c.reply(RPL.AWAY, s.name, s.away);
  const now = c.hub.clock.now();
  c.reply(
    RPL.WHOISIDLE,
    s.name,
    String(Math.floor((now - s.lastActive) / 1000)),
    String(Math.floor(s.connectedAt / 1000)),
    'seconds idle, signon time',
  );
  c.reply(RPL.ENDOFWHOIS, s.name, 'End of /WHOIS list');
}

function whowas(c: IrcClient, nicks: string[], count: number): void {
  for (const nick of nicks) {
    const entries = c.hub.whowas(nick, count > 0 ? count : Number.MAX_SAFE_INTEGER);
    if (entries.length === 0) c.reply(ERR.WASNOSUCHNICK, nick, 'There was no such nickname');
    for (const e of entries) {
      c.reply(RPL.WHOWASUSER, e.name, e.user, e.host, '*', e.realname);
      c.reply(RPL.WHOISSERVER, e.name, c.serverName, new Date(e.ts).toUTCString());
    }
    c.reply(RPL.ENDOFWHOWAS, nick, 'End of WHOWAS');
  }
}

// ---- the table ------------------------------------------------------------------------

export const queries: IrcCommand[] = [
  {
    name: 'WHO',
    minParams: 0,
    run: (c, m) => who(c, m.params[0] ?? '*', m.params[1] ?? ''),
  },
  {
    name: 'WHOIS',
    minParams: 0,
    run(c, m) {
      // WHOIS [server] nick: with two parameters the nick is the second.
      const target = m.params.length >= 2 ? m.params[1] : m.params[0];
      if (!target) return c.reply(ERR.NONICKNAMEGIVEN, 'No nickname given');
      const nicks = list(target);
      if (nicks.length > 1) return c.reply(ERR.TOOMANYTARGETS, target, 'Too many targets');
      whois(c, nicks[0] ?? target);
    },
  },
  {
    name: 'WHOWAS',
    minParams: 0,
    run(c, m) {
      const target = m.params[0];
      if (!target) return c.reply(ERR.NONICKNAMEGIVEN, 'No nickname given');
      const count = Number.parseInt(m.params[1] ?? '0', 10);
      whowas(c, list(target), Number.isNaN(count) ? 0 : count);
    },
  },
  {
    name: 'ISON',
    minParams: 1,
    run(c, m) {
      const present = m.params
        .flatMap((p) => p.split(' '))
        .filter(Boolean)
        .map((n) => c.hub.find(n)?.name)
        .filter((n): n is string => n !== undefined);
      c.reply(RPL.ISON, present.join(' '));
    },
  },
  {
    name: 'USERHOST',
    minParams: 1,
    run(c, m) {
      // RFC 2812 4.8: up to five nicks, each as nick[*]=(+|-)user@host.
      const out = m.params
        .slice(0, 5)
        .map((n) => c.hub.find(n))
        .filter((s): s is Session => s !== undefined)
        .map(
          (s) => `${s.name}${s.oper ? '*' : ''}=${s.away !== null ? '-' : '+'}${s.user}@${s.host}`,
        );
      c.reply(RPL.USERHOST, out.join(' '));
    },
  },
  {
    name: 'AWAY',
    minParams: 0,
    run(c, m) {
      const text = m.params[0];
      if (text) {
        c.hub.setAway(c.session, text);
        c.reply(RPL.NOWAWAY, 'You have been marked as being away');
      } else {
        if (c.session.away !== null) c.hub.setAway(c.session, null);
        c.reply(RPL.UNAWAY, 'You are no longer marked as being away');
      }
    },
  },
  { name: 'MOTD', minParams: 0, run: (c) => sendMotd(c) },
  { name: 'LUSERS', minParams: 0, run: (c) => sendLusers(c) },
  {
    name: 'VERSION',
    minParams: 0,
    run(c) {
      c.reply(RPL.VERSION, VERSION, c.serverName, 'Plugboard chat server');
      sendIsupport(c);
    },
  },
  {
    // RFC 2812 3.4.10: what this server is; a target naming another server is answered
    // by this one (there are no other servers).
    name: 'INFO',
    minParams: 0,
    run(c) {
      const hub = c.hub;
      const lines = [
        `${VERSION}: Plugboard chat server`,
        'One hub for telnet/netcat, IRC, the terminal client and the web client.',
        `Storage: ${hub.store.name}`,
        `Started ${new Date(hub.startedAt).toUTCString()}`,
        `Running on Node.js ${process.version}`,
      ];
      for (const text of lines) c.reply(RPL.INFO, text);
      c.reply(RPL.ENDOFINFO, 'End of INFO list');
    },
  },
  {
    name: 'TIME',
    minParams: 0,
    run(c) {
      c.reply(RPL.TIME, c.serverName, new Date(c.hub.clock.now()).toUTCString());
    },
  },
];
