/**
 * RENAME (IRCv3 draft/channel-rename, ircv3.net/specs/extensions/channel-rename): a
 * channel operator (or a server operator) renames a channel; the core moves everything
 * with it, and each member hears `RENAME` (with the capability) or the spec's fallback
 * (PART, JOIN, topic and NAMES: encoder.ts). The errors are the spec's: existing numerics
 * where they fit (403 no such channel, 442 not on it, 482 not an operator), standard
 * replies for the rest (`FAIL RENAME CHANNEL_NAME_IN_USE`, `FAIL RENAME CANNOT_RENAME`,
 * the latter also for an invalid new name). A client without the capability may rename
 * too (the spec's SHOULD) and is told by the fallback.
 */
import { ChatError, ErrorCode } from '../../../core/errors.js';
import type { IrcCommand } from '../command.js';
import { replyError } from '../errors.js';

export const rename: IrcCommand[] = [
  {
    name: 'RENAME',
    minParams: 2,
    async run(c, m) {
      const [from, to] = m.params as [string, string];
      try {
        await c.hub.rename(c.session, from, to, m.params[2] ?? '');
      } catch (err) {
        if (!(err instanceof ChatError)) throw err;
        switch (err.code) {
          case ErrorCode.RoomNameInUse:
            return c.fail('RENAME', 'CHANNEL_NAME_IN_USE', from, to, err.message);
          case ErrorCode.CannotRename:
            return c.fail('RENAME', 'CANNOT_RENAME', from, to, err.message);
          case ErrorCode.RoomInvalid:
            // The old name is looked up first: an invalid one is simply no such channel.
            if (err.target === from) break;
            return c.fail('RENAME', 'CANNOT_RENAME', from, to, err.message);
        }
        replyError(c, err, { command: 'RENAME', channel: from });
      }
    },
  },
];
