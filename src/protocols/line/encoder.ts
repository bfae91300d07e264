/**
 * Line-protocol output: core events as the text lines people read in telnet or nc.
 * Lines from a room other than the reader's current one carry the room name, so the
 * encoding depends on the reader only through that one bit: two variants per event.
 */
import type { ChatEvent } from '../../core/events.js';
import type { Encoder } from '../../core/ports.js';
import type { Session } from '../../core/session.js';
import { clock } from '../../core/text.js';
import { describeChanges } from '../describe.js';

const EOL = '\r\n';

export function lineBytes(text: string): Buffer {
  return Buffer.from(text + EOL);
}

function inCurrent(recipient: Session, room: string): boolean {
  return recipient.current !== null && recipient.current.name === room;
}

/** Formats one room message; `prefix` shows the room when it is not the current one. */
export function formatMessage(
  ts: number,
  room: string | null,
  from: string,
  text: string,
  kind: string,
): string {
  const where = room ? `${room} ` : '';
  if (kind === 'me') return `[${clock(ts)}] ${where}* ${from} ${text}`;
  if (kind === 'notice') return `[${clock(ts)}] ${where}-${from}- ${text}`;
  return `[${clock(ts)}] ${where}<${from}> ${text}`;
}

/** "* 3 people joined #lobby: a, b, c" — at most 10 names, then "and N more". */
function rosterLine(names: string[], verb: string, room: string): string {
  if (names.length === 0) return '';
  const shown = names.slice(0, 10).join(', ');
  const more = names.length > 10 ? ` and ${names.length - 10} more` : '';
  if (names.length === 1) return `* ${shown} ${verb} ${room}`;
  return `* ${names.length} people ${verb} ${room}: ${shown}${more}`;
}

export const lineEncoder: Encoder = {
  // variant() below returns null for others' bulk joined/left/quit.
  skipsBulkRoster: true,

  variant(event: ChatEvent, r: Session): string | null {
    switch (event.type) {
      case 'message':
        if (event.tagOnly) return null; // tags only (IRC TAGMSG): nothing to show here
        // No echo: the sender's terminal already shows what they typed.
        if (event.origin === r.id) return null;
        return inCurrent(r, event.room) ? 'l:c' : 'l:o';
      case 'dm':
        if (event.tagOnly) return null;
        return event.origin === r.id ? 'l:out' : 'l:in';
      case 'joined':
        return event.who.name === r.name || event.bulk ? null : 'l';
      case 'left':
      case 'quit':
        return event.bulk && event.who.name !== r.name ? null : 'l';
      case 'away':
      case 'account':
      case 'kill':
      case 'serverban':
        return null;
      case 'nick':
        return event.newName === r.name ? 'l:self' : 'l';
      case 'kick':
        return event.name === r.name ? 'l:self' : 'l';
      case 'mode':
        return 'l';
      default:
        return 'l';
    }
  },

  farewell(reason: string, _r: Session, shutdown?: boolean): Buffer | null {
    // Stopping: the shutdown line was the last word.
    return shutdown ? null : lineBytes(`* Disconnected: ${reason}`);
  },

  encode(event: ChatEvent, r: Session): Buffer | null {
    switch (event.type) {
      case 'message': {
        const room = inCurrent(r, event.room) ? null : event.room;
        return lineBytes(formatMessage(event.ts, room, event.from.name, event.text, event.kind));
      }
      case 'dm':
        if (event.origin === r.id)
          return lineBytes(`[${clock(event.ts)}] -> *${event.to}* ${event.text}`);
        if (event.kind === 'me')
          return lineBytes(`[${clock(event.ts)}] *${event.from.name}* * ${event.text}`);
        return lineBytes(`[${clock(event.ts)}] *${event.from.name}* ${event.text}`);
      case 'joined':
        return lineBytes(`* ${event.who.name} joined ${event.room}`);
      case 'left':
        if (event.who.name === r.name) return lineBytes(`* You left ${event.room}`);
        return lineBytes(
          `* ${event.who.name} left ${event.room}${event.reason ? ` (${event.reason})` : ''}`,
        );
      case 'quit':
        return lineBytes(`* ${event.who.name} left (${event.reason})`);
      case 'kick':
        if (event.name === r.name) {
          return lineBytes(
            `* You were kicked from ${event.room} by ${event.by.name} (${event.reason})`,
          );
        }
        return lineBytes(
          `* ${event.name} was kicked from ${event.room} by ${event.by.name} (${event.reason})`,
        );
      case 'nick':
        if (event.newName === r.name) {
          return lineBytes(`* You are now known as ${event.newName}`);
        }
        return lineBytes(`* ${event.who.name} is now known as ${event.newName}`);
      case 'topic':
        return lineBytes(`* ${event.by.name} set the topic of ${event.room} to: ${event.topic}`);
      case 'mode':
        return lineBytes(
          describeChanges(event)
            .map((t) => `* ${t}`)
            .join(EOL),
        );
      case 'invite':
        return lineBytes(
          `* ${event.by.name} invites you to ${event.room} (type /join ${event.room})`,
        );
      case 'notice':
        return lineBytes(event.from ? `-${event.from.name}- ${event.text}` : `* ${event.text}`);
      case 'shutdown':
        return lineBytes(
          `* server shutting down${event.reason && event.reason !== 'server shutting down' ? ` (${event.reason})` : ''}`,
        );
      case 'away':
      case 'account':
      case 'kill':
      case 'serverban':
        return null;
      case 'roster':
        return lineBytes(
          [
            rosterLine(event.joined, 'joined', event.room),
            rosterLine(event.left, 'left', event.room),
          ]
            .filter(Boolean)
            .join('\r\n'),
        );
    }
  },
};
