/**
 * User queries (RFC 2812 3.6, 4.8, 4.9; modern.ircdocs.horse): WHO (with WHOX), WHOIS,
 * WHOWAS, ISON, USERHOST, and the server queries MOTD, LUSERS, VERSION, INFO, TIME. Also AWAY.
 * Invisible people (+i) show up only to those sharing a channel, and to operators.
 */
import { mayList, seesInvisible } from '../../../core/access.js';
import { fold, maskMatches } from '../../../core/names.js';
import type { PersonInfo } from '../../../core/ports.js';
import { Role, type Room } from '../../../core/room.js';
import { maxMaskLength } from '../../../core/wildcard.js';
import { Cap } from '../caps.js';
import type { IrcClient } from '../client.js';
import type { IrcCommand } from '../command.js';
import { ERR, RPL } from '../numerics.js';
import { list, prefixes } from './channels.js';
import { BOT_MODE, VERSION, sendIsupport, sendLusers, sendMotd } from './welcome.js';

/** A person's roles in a room this node holds (0 when not a member or not held). */
function rolesIn(c: IrcClient, room: Room | undefined, p: PersonInfo): number | undefined {
  if (!room) return undefined;
  const local = c.hub.sessions.get(p.origin);
  if (local) return room.local.get(local);
  return room.remote.get(fold(p.name))?.roles;
}

function sharesRoom(c: IrcClient, p: PersonInfo): boolean {
  for (const name of p.rooms) if (c.hub.room(name)?.has(c.session)) return true;
  return false;
}

function visibleTo(c: IrcClient, p: PersonInfo): boolean {
  const viewer = c.session;
  return viewer.id === p.origin || viewer.oper || !p.invisible || sharesRoom(c, p);
}

/** A channel of `p` to show beside it in WHO, or null (none that the viewer may see). */
function someRoom(c: IrcClient, p: PersonInfo): Room | null {
  for (const name of p.rooms) {
    const room = c.hub.room(name);
    if (room && mayList(c.session, room)) return room;
  }
  return null;
}

// ---- WHO ------------------------------------------------------------------------------

/** WHOX field letters in the order the reply carries them (ircv3 WHOX, "%tcuihsnfdlaor"). */
const WHOX_ORDER = 'tcuihsnfdlaor';

function whoFlags(c: IrcClient, p: PersonInfo, room: Room | null): string {
  let flags = p.away !== null ? 'G' : 'H';
  if (p.oper) flags += '*';
  // IRCv3 bot mode: the bot letter among the WHO flags.
  if (p.bot) flags += BOT_MODE;
  const roles = room ? (rolesIn(c, room, p) ?? 0) : 0;
  if (room)
    flags += prefixes((roles & Role.Op) !== 0, (roles & Role.Voice) !== 0, c.has(Cap.MultiPrefix));
  return flags;
}

function whoReply(
  c: IrcClient,
  p: PersonInfo,
  room: Room | null,
  whox: string | null,
  token: string,
): void {
  const channel = room ? room.name : '*';
  const flags = whoFlags(c, p, room);
  if (whox === null) {
    c.reply(RPL.WHOREPLY, channel, p.user, p.host, c.serverName, p.name, flags, `0 ${p.realname}`);
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
        fields.push(p.user);
        break;
      case 'i':
        fields.push(c.session.oper || c.session.id === p.origin ? p.host : '255.255.255.255');
        break;
      case 'h':
        fields.push(p.host);
        break;
      case 's':
        fields.push(c.serverName);
        break;
      case 'n':
        fields.push(p.name);
        break;
      case 'f':
        fields.push(flags);
        break;
      case 'd':
        fields.push('0');
        break;
      case 'l':
        fields.push(String(Math.floor((c.hub.clock.now() - p.lastActive) / 1000)));
        break;
      case 'a':
        fields.push(p.account ?? '0');
        break;
      case 'o':
        fields.push('n/a');
        break;
      case 'r':
        fields.push(p.realname);
        break;
    }
  }
  c.reply(RPL.WHOSPCRPL, ...fields);
}

async function who(c: IrcClient, mask: string, options: string): Promise<void> {
  const [flags = '', whoxFields] = options.split('%', 2) as [string, string | undefined];
  const whox = whoxFields === undefined ? null : (whoxFields.split(',')[0] ?? '');
  const token = whoxFields?.split(',')[1] ?? '0';
  const opersOnly = flags.includes('o');
  const wanted = (p: PersonInfo): boolean => !opersOnly || p.oper;
  if (mask.startsWith('#')) {
    const room = c.hub.room(mask);
    if (room && mayList(c.session, room)) {
      const all = seesInvisible(c.session, room);
      for (const m of (await c.hub.presence.members(room.name)) ?? []) {
        if ((all || visibleTo(c, m.person)) && wanted(m.person)) {
          whoReply(c, m.person, room, whox, token);
        }
      }
    }
  } else if (mask.length <= maxMaskLength) {
    const all = mask === '' || mask === '*' || mask === '0';
    const direct = all ? null : await c.hub.presence.lookup(mask);
    const matches = direct
      ? [direct]
      : (await c.hub.presence.people()).filter(
          (p) =>
            (all ||
              maskMatches(mask, p.name) ||
              maskMatches(mask, p.user) ||
              maskMatches(mask, p.host) ||
              maskMatches(mask, p.realname)) &&
            visibleTo(c, p),
        );
    for (const p of matches) {
      if (wanted(p)) whoReply(c, p, someRoom(c, p), whox, token);
    }
  }
  c.reply(RPL.ENDOFWHO, mask || '*', 'End of WHO list');
}

// ---- WHOIS / WHOWAS -------------------------------------------------------------------

async function whois(c: IrcClient, nick: string): Promise<void> {
  const p = await c.hub.presence.lookup(nick);
  if (!p) {
    c.reply(ERR.NOSUCHNICK, nick, 'No such nick/channel');
    c.reply(RPL.ENDOFWHOIS, nick, 'End of /WHOIS list');
    return;
  }
  const viewer = c.session;
  c.reply(RPL.WHOISUSER, p.name, p.user, p.host, '*', p.realname);
  const rooms: string[] = [];
  for (const name of p.rooms) {
    const room = c.hub.room(name);
    if (!room || !mayList(viewer, room)) continue;
    const roles = rolesIn(c, room, p) ?? 0;
    rooms.push(
      prefixes((roles & Role.Op) !== 0, (roles & Role.Voice) !== 0, c.has(Cap.MultiPrefix)) +
        room.name,
    );
  }
  if (rooms.length > 0) c.reply(RPL.WHOISCHANNELS, p.name, rooms.join(' '));
  c.reply(RPL.WHOISSERVER, p.name, c.serverName, 'Plugboard');
  if (p.oper) c.reply(RPL.WHOISOPERATOR, p.name, 'is an IRC operator');
  if (p.bot) c.reply(RPL.WHOISBOT, p.name, 'is a bot');
  if (p.account) c.reply(RPL.WHOISACCOUNT, p.name, p.account, 'is logged in as');
  if (p.secure) c.reply(RPL.WHOISSECURE, p.name, 'is using a secure connection');
  // 378: where they really connect from, whatever host they are shown with (CHGHOST);
  // only for themselves and operators, as ergo and InspIRCd do. No reverse DNS is looked
  // up, so the address is the hostname too.
  if ((viewer.id === p.origin || viewer.oper) && p.address !== undefined) {
    c.reply(RPL.WHOISHOST, p.name, `is connecting from *@${p.address} ${p.address}`);
  }
  if (p.away !== null) c.reply(RPL.AWAY, p.name, p.away);
  const now = c.hub.clock.now();
  c.reply(
    RPL.WHOISIDLE,
    p.name,
    String(Math.floor((now - p.lastActive) / 1000)),
    String(Math.floor(p.connectedAt / 1000)),
    'seconds idle, signon time',
  );
  c.reply(RPL.ENDOFWHOIS, p.name, 'End of /WHOIS list');
}

function whowas(c: IrcClient, nicks: string[], count: number): void {
  for (const nick of nicks) {
    const entries = c.hub.identity.whowas(nick, count > 0 ? count : Number.MAX_SAFE_INTEGER);
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
      return whois(c, nicks[0] ?? target);
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
    async run(c, m) {
      const present: string[] = [];
      for (const n of m.params.flatMap((p) => p.split(' ')).filter(Boolean)) {
        const p = await c.hub.presence.lookup(n);
        if (p) present.push(p.name);
      }
      c.reply(RPL.ISON, present.join(' '));
    },
  },
  {
    name: 'USERHOST',
    minParams: 1,
    async run(c, m) {
      // RFC 2812 4.8: up to five nicks, each as nick[*]=(+|-)user@host.
      const out: string[] = [];
      for (const n of m.params.slice(0, 5)) {
        const p = await c.hub.presence.lookup(n);
        if (p)
          out.push(
            `${p.name}${p.oper ? '*' : ''}=${p.away !== null ? '-' : '+'}${p.user}@${p.host}`,
          );
      }
      c.reply(RPL.USERHOST, out.join(' '));
    },
  },
  {
    name: 'AWAY',
    minParams: 0,
    async run(c, m) {
      const text = m.params[0];
      if (text) {
        await c.hub.membership.setAway(c.session, text);
        c.reply(RPL.NOWAWAY, 'You have been marked as being away');
      } else {
        if (c.session.away !== null) await c.hub.membership.setAway(c.session, null);
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
