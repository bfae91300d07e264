/**
 * Server operators (RFC 2812 3.1.4, 3.7.1, 4.7): OPER with the --oper NAME:PASSWORD
 * pairs, KILL, WALLOPS, and CHGHOST <nick> <host> (UnrealIRCd's and InspIRCd's command:
 * the host the person is shown with, core/hosts.ts). Operators may also set channel modes
 * anywhere (see modes.ts): the hub grants them that.
 */
import { hostProblem } from '../../../core/hosts.js';
import type { IrcClient } from '../client.js';
import type { IrcCommand } from '../command.js';
import { ERR, RPL } from '../numerics.js';
import { attempt } from './channels.js';

function requireOper(c: IrcClient): boolean {
  if (c.session.oper) return true;
  c.reply(ERR.NOPRIVILEGES, "Permission Denied- You're not an IRC operator");
  return false;
}

export const oper: IrcCommand[] = [
  {
    name: 'OPER',
    minParams: 2,
    async run(c, m) {
      const s = c.session;
      let ok = false;
      if (
        !(await attempt(
          c,
          'OPER',
          () => (ok = c.hub.moderation.oper(s, m.params[0] as string, m.params[1] as string)),
        ))
      )
        return;
      if (!ok) return c.reply(ERR.PASSWDMISMATCH, 'Password incorrect');
      c.reply(RPL.YOUREOPER, 'You are now an IRC operator');
      c.sendLine(`:${s.mask} MODE ${s.name} :+o`);
    },
  },
  {
    name: 'KILL',
    minParams: 1,
    async run(c, m) {
      if (!requireOper(c)) return;
      const reason = m.params[1] || 'No reason given';
      await attempt(c, 'KILL', () =>
        c.hub.moderation.kill(c.session, m.params[0] as string, reason),
      );
    },
  },
  {
    name: 'CHGHOST',
    minParams: 2,
    async run(c, m) {
      if (!requireOper(c)) return;
      const [nick, host] = m.params as [string, string];
      const problem = hostProblem(host);
      // Standard replies (ircv3.net/specs/extensions/standard-replies); the host is not
      // echoed: what was refused may hold anything.
      if (problem !== null) return c.fail('CHGHOST', 'INVALID_HOST', nick, problem);
      let changed = '';
      if (
        await attempt(c, 'CHGHOST', async () => {
          changed = await c.hub.hosts.change(c.session, nick, host);
        })
      ) {
        c.fromServer('NOTICE', c.nick, `The displayed host of ${changed} is now ${host}`);
      }
    },
  },
  {
    name: 'WALLOPS',
    minParams: 1,
    async run(c, m) {
      if (!requireOper(c)) return;
      await c.hub.notice(m.params[0] as string, { wallops: true, from: c.session.actor() });
    },
  },
];
