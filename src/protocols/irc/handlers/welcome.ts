/**
 * What a client hears once registered: RPL_WELCOME..RPL_ISUPPORT (001–005), LUSERS and
 * the MOTD (RFC 2812 5.1; modern.ircdocs.horse "Connection Registration").
 */
import type { Session } from '../../../core/session.js';
import type { IrcClient } from '../client.js';
import { ERR, RPL } from '../numerics.js';

export const VERSION = 'plugboard-0.1.0';
export const USER_MODES = 'Biow';
/** The user mode a bot sets on itself (IRCv3 bot mode; ISUPPORT BOT). */
export const BOT_MODE = 'B';
export const CHANNEL_MODES = 'biklmnostv';
export const CHANNEL_MODES_WITH_PARAM = 'bklov';

/** A session's user modes as IRC letters (RFC 2812 3.1.5): the core keeps them typed. */
export function umodes(s: Session): string {
  return (
    (s.bot ? BOT_MODE : '') +
    (s.invisible ? 'i' : '') +
    (s.oper ? 'o' : '') +
    (s.wallops ? 'w' : '')
  );
}
/** Longest username (ident) we keep, including the '~' we add (ISUPPORT USERLEN). */
export const USERLEN = 20;

/** ISUPPORT tokens, all taken from the limits the core really enforces. */
export function isupportTokens(c: IrcClient): string[] {
  const o = c.hub.options;
  return [
    `AWAYLEN=${o.topicLength}`,
    `BOT=${BOT_MODE}`,
    'CASEMAPPING=ascii',
    `CHANLIMIT=#:${o.maxRoomsPerUser}`,
    'CHANMODES=b,k,l,imnst',
    `CHANNELLEN=${o.roomNameLength}`,
    'CHANTYPES=#',
    // IRCv3 chathistory: the most messages one CHATHISTORY returns, and its references.
    `CHATHISTORY=${o.historyPageMax}`,
    `KICKLEN=${o.topicLength}`,
    'LINELEN=512',
    `MAXLIST=b:${o.maxBansPerRoom}`,
    `MAXTARGETS=${o.ircMaxTargets}`,
    `MODES=${o.ircMaxModes}`,
    `MONITOR=${o.watchLimit}`,
    'MSGREFTYPES=msgid,timestamp',
    'NETWORK=Plugboard',
    `NICKLEN=${o.nameLength}`,
    'PREFIX=(ov)@+',
    'SAFELIST',
    `TARGMAX=JOIN:,KICK:${o.ircMaxTargets},NAMES:1,NOTICE:${o.ircMaxTargets},PART:,PRIVMSG:${o.ircMaxTargets},WHOIS:1`,
    `TOPICLEN=${o.topicLength}`,
    `USERLEN=${USERLEN}`,
    // WHO with %fields (ircv3.net/specs/extensions/whox): handlers/queries.ts.
    'WHOX',
  ];
}

export function sendIsupport(c: IrcClient): void {
  const tokens = isupportTokens(c);
  // At most 13 tokens per line keeps every line well under 512 bytes.
  for (let i = 0; i < tokens.length; i += 13) {
    c.reply(RPL.ISUPPORT, ...tokens.slice(i, i + 13), 'are supported by this server');
  }
}

/** The most users LUSERS has seen at once, per hub (a cluster's count is not this node's). */
const peaks = new WeakMap<object, number>();

export async function sendLusers(c: IrcClient): Promise<void> {
  const hub = c.hub;
  const { users, invisible, opers, rooms } = await hub.presence.counts();
  const visible = users - invisible;
  c.reply(RPL.LUSERCLIENT, `There are ${visible} users and ${invisible} invisible on 1 servers`);
  c.reply(RPL.LUSEROP, String(opers), 'operator(s) online');
  c.reply(RPL.LUSERUNKNOWN, String(hub.unregisteredCount()), 'unknown connection(s)');
  c.reply(RPL.LUSERCHANNELS, String(rooms), 'channels formed');
  c.reply(RPL.LUSERME, `I have ${users} clients and 0 servers`);
  // A cluster shows itself as one server, so local and global are the chat's whole count;
  // the most seen is this node's record of it (its own peak, or the counts it was told),
  // never below what is online now.
  const peak = Math.max(peaks.get(hub) ?? 0, hub.peakOnline, users);
  peaks.set(hub, peak);
  const n = String(users);
  const max = String(peak);
  c.reply(RPL.LOCALUSERS, n, max, `Current local users ${n}, max ${max}`);
  c.reply(RPL.GLOBALUSERS, n, max, `Current global users ${n}, max ${max}`);
}

export function sendMotd(c: IrcClient): void {
  const motd = c.hub.options.motd;
  if (motd.length === 0) {
    c.reply(ERR.NOMOTD, 'MOTD File is missing');
    return;
  }
  c.reply(RPL.MOTDSTART, `- ${c.serverName} Message of the day - `);
  for (const l of motd) c.reply(RPL.MOTD, `- ${l}`);
  c.reply(RPL.ENDOFMOTD, 'End of /MOTD command.');
}

export async function sendWelcome(c: IrcClient): Promise<void> {
  const s = c.session;
  const created = new Date(c.hub.startedAt).toUTCString();
  c.reply(RPL.WELCOME, `Welcome to the Plugboard IRC Network ${s.mask}`);
  c.reply(RPL.YOURHOST, `Your host is ${c.serverName}, running version ${VERSION}`);
  c.reply(RPL.CREATED, `This server was created ${created}`);
  c.reply(RPL.MYINFO, c.serverName, VERSION, USER_MODES, CHANNEL_MODES, CHANNEL_MODES_WITH_PARAM);
  sendIsupport(c);
  await sendLusers(c);
  sendMotd(c);
  const modes = umodes(s);
  if (modes) c.sendLine(`:${s.name} MODE ${s.name} :+${modes}`);
}
