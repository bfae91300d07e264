/**
 * Core events as JSON messages. Every recipient on one transport gets the same bytes, so
 * each event is serialised once per transport ('framed' or 'ws').
 */
import type { ChatEvent } from '../../core/events.js';
import { fold } from '../../core/names.js';
import type { Encoder } from '../../core/ports.js';
import type { Session } from '../../core/session.js';
import { describeChanges, describeRename } from '../describe.js';
import { toLetters } from '../irc/mode-letters.js';
import type { ServerMessage } from './schema.js';

export function toWire(event: ChatEvent): ServerMessage | null {
  switch (event.type) {
    case 'message':
      return {
        type: 'message',
        id: event.id,
        ts: event.ts,
        room: event.room,
        from: event.from.name,
        text: event.text,
        kind: event.kind,
      };
    case 'dm':
      return {
        type: 'dm',
        id: event.id,
        ts: event.ts,
        from: event.from.name,
        to: event.to,
        text: event.text,
        kind: event.kind,
      };
    case 'joined':
      return { type: 'joined', ts: event.ts, room: event.room, name: event.who.name };
    case 'left':
      return {
        type: 'left',
        ts: event.ts,
        room: event.room,
        name: event.who.name,
        reason: event.reason,
      };
    case 'kick':
      return {
        type: 'left',
        ts: event.ts,
        room: event.room,
        name: event.name,
        reason: event.reason,
        by: event.by.name,
      };
    case 'quit':
      return {
        type: 'quit',
        ts: event.ts,
        name: event.who.name,
        reason: event.reason,
        rooms: event.rooms,
      };
    case 'nick':
      return { type: 'nick', ts: event.ts, old: event.who.name, name: event.newName };
    case 'topic':
      return {
        type: 'topic',
        ts: event.ts,
        room: event.room,
        topic: event.topic,
        by: event.by.name,
      };
    case 'mode':
      return {
        type: 'mode',
        ts: event.ts,
        room: event.room,
        by: event.by.name,
        ...toLetters(event.changes),
        changes: event.changes,
        text: describeChanges(event).join('; '),
      };
    case 'away':
      return { type: 'away', ts: event.ts, name: event.who.name, message: event.message };
    case 'invite':
      return {
        type: 'notice',
        ts: event.ts,
        text: `${event.by.name} invites you to ${event.room}`,
        from: event.by.name,
        room: event.room,
      };
    case 'notice':
      return {
        type: 'notice',
        ts: event.ts,
        text: event.text,
        ...(event.from ? { from: event.from.name } : {}),
        ...(event.room ? { room: event.room } : {}),
      };
    case 'shutdown':
      return { type: 'shutdown', reason: event.reason };
    case 'marker':
      return { type: 'marker', room: event.target, id: event.id };
    case 'rename':
      return {
        type: 'rename',
        ts: event.ts,
        room: event.room,
        to: event.newName,
        by: event.by.name,
        reason: event.reason,
        text: describeRename(event),
      };
    case 'roster':
    case 'account':
    case 'realname':
    case 'status':
    case 'kill':
    case 'serverban':
    case 'sethost':
    case 'host':
      // Hosts are not shown over JSON (no masks): a host change has nothing to say.
      return null;
  }
}

/**
 * `tokenFor` makes a session's resume token: the shutdown event carries it, so that one
 * event is encoded for each recipient (once per session, at the end).
 */
export function jsonEncoder(
  transport: { name: string; frame(json: string): Buffer },
  tokenFor?: (s: Session) => string | null,
): Encoder {
  const variant = `j:${transport.name}`;
  return {
    variant(event: ChatEvent, r: Session): string | null {
      if (event.type === 'shutdown' && tokenFor) return `${variant}:bye:${r.id}`;
      // The joiner gets a fuller reply (topic, members) from its own session.
      if (event.type === 'joined' && event.who.name === r.name) return null;
      if (
        event.type === 'roster' ||
        event.type === 'account' ||
        event.type === 'realname' ||
        event.type === 'status' ||
        event.type === 'kill' ||
        event.type === 'serverban' ||
        event.type === 'sethost' ||
        event.type === 'host'
      )
        return null;
      // The connection that moved a marker has the reply to its markread.
      if (event.type === 'marker' && event.origin === r.id) return null;
      // An invitation is the invited person's news (others in the room get it for IRC's
      // invite-notify).
      if (event.type === 'invite' && fold(event.name) !== fold(r.name)) return null;
      // Tags only (IRC TAGMSG: typing, reactions): the JSON protocol has no such message.
      if ((event.type === 'message' || event.type === 'dm') && event.tagOnly) return null;
      return variant;
    },
    encode(event: ChatEvent, r: Session): Buffer | null {
      if (event.type === 'shutdown' && tokenFor) {
        const token = tokenFor(r);
        return transport.frame(
          JSON.stringify({ type: 'shutdown', reason: event.reason, ...(token ? { token } : {}) }),
        );
      }
      const wire = toWire(event);
      return wire ? transport.frame(JSON.stringify(wire)) : null;
    },
    farewell(reason: string, _r: Session, shutdown?: boolean): Buffer | null {
      // A client that asked to quit needs no explanation of why it was closed, nor one
      // that has just read the `shutdown` event.
      if (shutdown || reason === 'quit' || reason.startsWith('quit:')) return null;
      return transport.frame(JSON.stringify({ type: 'error', code: 'closed', message: reason }));
    },
  };
}
