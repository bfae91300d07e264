/**
 * MONITOR (ircv3.net/specs/extensions/monitor): a client's list of nicks to hear about
 * when they come online (730 RPL_MONONLINE) and go offline (731 RPL_MONOFFLINE). The
 * list is the core's watch list (core/watchlist.ts), so a nick on any node of a cluster
 * is watched alike; this module only turns it into numerics. ISUPPORT MONITOR=<limit>.
 *
 *   MONITOR + a,b   add, answered with the current state of what was added
 *   MONITOR - a,b   remove (no reply)
 *   MONITOR C       clear (no reply)
 *   MONITOR L       the list (732 ... 733)
 *   MONITOR S       the state of every name on it (730/731)
 */
import { nameProblem } from '../../../core/names.js';
import type { IrcClient } from '../client.js';
import type { IrcCommand } from '../command.js';
import { ERR, RPL } from '../numerics.js';
import { list } from './channels.js';

/** Room for the comma list in one numeric: 512 less the prefix, numeric, nick and CR LF. */
function chunks(c: IrcClient, items: readonly string[]): string[] {
  const budget = 510 - Buffer.byteLength(`:${c.serverName} 000 ${c.nick} :`);
  const out: string[] = [];
  let cur = '';
  for (const item of items) {
    if (cur && Buffer.byteLength(cur) + 1 + Buffer.byteLength(item) > budget) {
      out.push(cur);
      cur = item;
    } else cur = cur ? `${cur},${item}` : item;
  }
  if (cur) out.push(cur);
  return out;
}

/** 730 for those online (as nick!user@host), 731 for the others (as asked for). */
async function sendStates(c: IrcClient, names: readonly string[]): Promise<void> {
  const people = await Promise.all(names.map((n) => c.hub.presence.lookup(n)));
  const online: string[] = [];
  const offline: string[] = [];
  names.forEach((name, i) => {
    const p = people[i];
    if (p) online.push(`${p.name}!${p.user}@${p.host}`);
    else offline.push(name);
  });
  for (const chunk of chunks(c, online)) c.reply(RPL.MONONLINE, chunk);
  for (const chunk of chunks(c, offline)) c.reply(RPL.MONOFFLINE, chunk);
}

async function add(c: IrcClient, targets: string[]): Promise<void> {
  const valid: string[] = [];
  for (const t of targets) {
    // Only nicks: the spec forbids masks, so nobody can follow a person across names.
    if (nameProblem(t, c.hub.options.nameLength) === null) valid.push(t);
    else c.reply(ERR.ERRONEUSNICKNAME, t, 'Erroneous nickname');
  }
  const { added, refused } = c.hub.watchlist.add(c.session, valid);
  if (refused.length > 0) {
    c.reply(
      ERR.MONLISTFULL,
      String(c.hub.options.watchLimit),
      refused.join(','),
      'Monitor list is full.',
    );
  }
  await sendStates(c, added);
}

export const monitor: IrcCommand[] = [
  {
    name: 'MONITOR',
    minParams: 1,
    async run(c, m) {
      const sub = m.params[0] as string;
      const targets = list(m.params[1]);
      const watchlist = c.hub.watchlist;
      switch (sub.toUpperCase()) {
        case '+':
          if (targets.length === 0)
            return c.reply(ERR.NEEDMOREPARAMS, 'MONITOR', 'Not enough parameters');
          return add(c, targets);
        case '-':
          if (targets.length === 0)
            return c.reply(ERR.NEEDMOREPARAMS, 'MONITOR', 'Not enough parameters');
          return watchlist.remove(c.session, targets);
        case 'C':
          return watchlist.clear(c.session);
        case 'L':
          for (const chunk of chunks(c, watchlist.list(c.session))) c.reply(RPL.MONLIST, chunk);
          return c.reply(RPL.ENDOFMONLIST, 'End of MONITOR list');
        case 'S':
          return sendStates(c, watchlist.list(c.session));
        default:
          return c.reply(ERR.UNKNOWNCOMMAND, 'MONITOR', `Unknown MONITOR subcommand ${sub}`);
      }
    },
  },
];
