/**
 * Core error codes as IRC numerics (RFC 2812 section 5.2, modern.ircdocs.horse). The same
 * code can mean different numerics depending on the command: a ban stops a JOIN with
 * ERR_BANNEDFROMCHAN but a PRIVMSG with ERR_CANNOTSENDTOCHAN.
 */
import { ChatError, ErrorCode } from '../../core/errors.js';
import type { IrcClient } from './client.js';
import { ERR } from './numerics.js';
import { quoteParam } from './quote.js';

export interface ErrorContext {
  command: string;
  /** The channel the command is about, for numerics that name it (441). */
  channel?: string;
}

const SENDING = new Set(['PRIVMSG', 'NOTICE', 'TAGMSG']);

/** Replies to `err` with the right numeric. NOTICE never gets an error reply (RFC 2812 3.3.2). */
export function replyError(c: IrcClient, err: ChatError, ctx: ErrorContext): void {
  if (ctx.command === 'NOTICE') return;
  const target = err.target ?? '*';
  const text = err.message;
  switch (err.code) {
    case ErrorCode.NameInvalid:
      return c.reply(ERR.ERRONEUSNICKNAME, target, 'Erroneous nickname');
    case ErrorCode.NameInUse:
      return c.reply(ERR.NICKNAMEINUSE, target, 'Nickname is already in use');
    case ErrorCode.NameRequired:
      return c.reply(ERR.NONICKNAMEGIVEN, 'No nickname given');
    case ErrorCode.RoomInvalid:
    case ErrorCode.NoSuchRoom:
      return c.reply(ERR.NOSUCHCHANNEL, target, 'No such channel');
    case ErrorCode.NoSuchUser:
      return c.reply(ERR.NOSUCHNICK, target, 'No such nick/channel');
    case ErrorCode.NotInRoom:
      // The hub names the room when the actor is not in it, the person otherwise.
      if (target.startsWith('#') || !ctx.channel) {
        return c.reply(ERR.NOTONCHANNEL, target, "You're not on that channel");
      }
      return c.reply(ERR.USERNOTINCHANNEL, target, ctx.channel, "They aren't on that channel");
    case ErrorCode.AlreadyInRoom:
      return c.reply(ERR.USERONCHANNEL, target, ctx.channel ?? '*', 'is already on channel');
    case ErrorCode.TooManyRooms:
      return c.reply(ERR.TOOMANYCHANNELS, target, 'You have joined too many channels');
    case ErrorCode.NeedOp:
      return c.reply(ERR.CHANOPRIVSNEEDED, target, "You're not channel operator");
    case ErrorCode.Banned:
      if (SENDING.has(ctx.command)) {
        return c.reply(ERR.CANNOTSENDTOCHAN, target, 'Cannot send to channel (+b)');
      }
      return c.reply(ERR.BANNEDFROMCHAN, target, 'Cannot join channel (+b)');
    case ErrorCode.RoomFull:
      return c.reply(ERR.CHANNELISFULL, target, 'Cannot join channel (+l)');
    case ErrorCode.InviteOnly:
      return c.reply(ERR.INVITEONLYCHAN, target, 'Cannot join channel (+i)');
    case ErrorCode.BadKey:
      return c.reply(ERR.BADCHANNELKEY, target, 'Cannot join channel (+k)');
    case ErrorCode.Moderated:
      return c.reply(ERR.CANNOTSENDTOCHAN, target, 'Cannot send to channel (+m)');
    case ErrorCode.NoExternal:
      return c.reply(ERR.CANNOTSENDTOCHAN, target, 'Cannot send to channel (+n)');
    case ErrorCode.TextEmpty:
      return c.reply(ERR.NOTEXTTOSEND, 'No text to send');
    case ErrorCode.NotRegistered:
      return c.reply(ERR.NOTREGISTERED, 'You have not registered');
    case ErrorCode.PermissionDenied:
      return c.reply(ERR.NOPRIVILEGES, "Permission Denied- You're not an IRC operator");
    case ErrorCode.UnknownCommand:
      return c.reply(ERR.UNKNOWNCOMMAND, ctx.command, 'Unknown command');
    case ErrorCode.BadRequest:
    case ErrorCode.Flood:
      break;
  }
  // Codes without a numeric of their own (and any added later) reach the person as a
  // notice; its text may name what they sent, so it is cleaned like any parameter.
  c.fromServer('NOTICE', c.nick, quoteParam(text, true, c.hub.options.maxMessageBytes));
}
