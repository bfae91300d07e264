/**
 * A displayed host change (core/hosts.ts) as IRC lines (ircv3.net/specs/extensions/chghost):
 *
 * - clients with `chghost`: `:nick!olduser@oldhost CHGHOST newuser newhost`, the person
 *   changed included;
 * - others who share a room: the spec's fallback, which every client understands: the
 *   person quits (`QUIT :Changing host`) and joins again under the new mask each room the
 *   recipient shares with them, with their channel modes given back by the server (and
 *   their away message, for away-notify), so nick lists and masks are right again;
 * - the person changed, without `chghost`: RPL_HOSTHIDDEN (396), as UnrealIRCd and
 *   InspIRCd tell them.
 *
 * The fallback depends on which rooms the recipient shares, so it is encoded for each
 * such recipient; a change is an operator's rare act, and `chghost` clients share one.
 */
import type { HostEvent } from '../../core/events.js';
import { fold } from '../../core/names.js';
import { Role } from '../../core/room.js';
import type { Session } from '../../core/session.js';
import { Cap } from './caps.js';
import { RPL } from './numerics.js';

/** The encoder's tag section builder: the tags an event carries for `caps`. */
type Tags = (caps: number, ts: number, account: string | null) => string;

export function hostVariant(event: HostEvent, r: Session, tagBits: number): string {
  const caps = r.caps;
  if (caps & Cap.Chghost) return `irc:chghost:${caps & tagBits}`;
  if (r.id === event.origin) return `irc:396:${r.id}:${caps & tagBits}`;
  return `irc:rejoin:${r.id}:${caps}`;
}

export function hostLines(
  event: HostEvent,
  r: Session,
  tags: Tags,
  serverLine: (caps: number, ts: number, rest: string) => string,
): string {
  const caps = r.caps;
  const who = event.who;
  const t = tags(caps, event.ts, who.account);
  if (caps & Cap.Chghost) return `${t}:${who.mask} CHGHOST ${event.user} ${event.host}\r\n`;
  if (r.id === event.origin) {
    return serverLine(
      caps,
      event.ts,
      `${RPL.HOSTHIDDEN} ${r.name} ${event.host} :is now your displayed host`,
    );
  }
  const mask = `${who.name}!${event.user}@${event.host}`;
  const mine = new Set<string>();
  for (const room of r.rooms) mine.add(room.key);
  let out = `${t}:${who.mask} QUIT :Changing host\r\n`;
  event.rooms.forEach((room, i) => {
    if (!mine.has(fold(room))) return;
    out +=
      caps & Cap.ExtendedJoin
        ? `${t}:${mask} JOIN ${room} ${who.account ?? '*'} :${event.realname}\r\n`
        : `${t}:${mask} JOIN ${room}\r\n`;
    const roles = event.roles[i] ?? 0;
    const letters = (roles & Role.Op ? 'o' : '') + (roles & Role.Voice ? 'v' : '');
    if (letters) {
      const names = [...letters].map(() => who.name).join(' ');
      out += serverLine(caps, event.ts, `MODE ${room} +${letters} ${names}`);
    }
  });
  if (event.away !== undefined && caps & Cap.AwayNotify) {
    out += `${t}:${mask} AWAY :${event.away}\r\n`;
  }
  return out;
}
