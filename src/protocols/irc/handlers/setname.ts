/**
 * SETNAME (ircv3.net/specs/extensions/setname): changes the realname after registration.
 * The core cleans it and tells everyone sharing a channel (and the client itself) who
 * negotiated `setname`, and watchers with extended-monitor; WHO and WHOIS in every
 * protocol show the new one. A realname the core refuses (empty, too long) gets
 * `FAIL SETNAME INVALID_REALNAME`, as the spec asks.
 */
import { ChatError } from '../../../core/errors.js';
import type { IrcCommand } from '../command.js';

export const setname: IrcCommand[] = [
  {
    name: 'SETNAME',
    minParams: 1,
    async run(c, m) {
      try {
        await c.hub.identity.setRealname(c.session, m.params[0] as string);
      } catch (err) {
        if (!(err instanceof ChatError)) throw err;
        c.fromServer('FAIL', 'SETNAME', 'INVALID_REALNAME', err.message);
      }
    },
  },
];
