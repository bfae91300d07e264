/**
 * Line-protocol output: core events as the text lines people read in telnet or nc.
 *
 * Lines from a room other than the reader's current one carry the room name, and a telnet
 * reader whose window width we know (NAWS) gets lines wrapped to it, continuation lines
 * indented under the text. So the encoding depends on the reader through that bit and the
 * width; the width joins the variant only when a line does not fit it, so a short message to
 * a thousand readers of a hundred widths is still encoded once or twice.
 */
import type { ChatEvent } from '../../core/events.js';
import type { Encoder } from '../../core/ports.js';
import { fold } from '../../core/names.js';
import type { Session } from '../../core/session.js';
import { clock } from '../../core/text.js';
import { describeChanges, describeRename } from '../describe.js';
import { MAX_WRAP_WIDTH, MIN_WRAP_WIDTH, displayWidth, wrap } from './wrap.js';

const EOL = '\r\n';

/**
 * For line-protocol sessions `Session.caps` holds the width to wrap lines at (0: unknown, do
 * not wrap): the encoder reads it for every recipient, like IRC's capability bits.
 */
export function wrapWidth(s: Session): number {
  return s.caps;
}

/** Sets the wrap width from a window width (NAWS): too narrow or unknown means none. */
export function setWrapWidth(s: Session, columns: number): void {
  s.caps = columns < MIN_WRAP_WIDTH ? 0 : Math.min(columns, MAX_WRAP_WIDTH);
}

/** Continuation indent: under the text when that leaves it half the width, else 2. */
function indentFor(prefixColumns: number, width: number): number {
  return prefixColumns * 2 <= width ? prefixColumns : 2;
}

/** What a line's text comes after: `* ` or `! ` for notices and errors, else nothing. */
function defaultPrefix(text: string): string {
  return text.startsWith('* ') ? '* ' : text.startsWith('! ') ? '! ' : '';
}

/** One line of output and the part of it that continuation lines go under when wrapped. */
export interface OutLine {
  text: string;
  /** The start of `text` before what was said (`[hh:mm] <name> `), measured only to wrap. */
  prefix: string;
}

function plain(text: string): OutLine {
  return { text, prefix: defaultPrefix(text) };
}

function render(lines: readonly OutLine[], width: number): string {
  if (width === 0 && lines.length === 1) return (lines[0] as OutLine).text + EOL;
  let out = '';
  for (const l of lines) {
    out +=
      (width === 0 ? l.text : wrap(l.text, width, indentFor(displayWidth(l.prefix), width))) + EOL;
  }
  return out;
}

/** One line as bytes, wrapped to `width` columns (0: not wrapped). */
export function lineBytes(text: string, width = 0, prefix = defaultPrefix(text)): Buffer {
  return Buffer.from(render([{ text, prefix }], width));
}

function inCurrent(recipient: Session, room: string): boolean {
  return recipient.current !== null && recipient.current.name === room;
}

/** A room message as a prefix and its text; `room` shows the room when not the current one. */
export function formatMessage(
  ts: number,
  room: string | null,
  from: string,
  text: string,
  kind: string,
): OutLine {
  const where = room ? `${room} ` : '';
  const prefix =
    kind === 'me'
      ? `[${clock(ts)}] ${where}* ${from} `
      : kind === 'notice'
        ? `[${clock(ts)}] ${where}-${from}- `
        : `[${clock(ts)}] ${where}<${from}> `;
  return { text: prefix + text, prefix };
}

/** "2 minutes", "90 seconds", "1 hour": the hold as people say it. */
function holdText(ms: number): string {
  const s = Math.round(ms / 1000);
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (s % 3600 === 0) return unit(s / 3600, 'hour');
  if (s % 60 === 0) return unit(s / 60, 'minute');
  return unit(s, 'second');
}

function dmLine(ts: number, prefix: string, text: string): OutLine {
  const head = `[${clock(ts)}] ${prefix} `;
  return { text: head + text, prefix: head };
}

/** "* 3 people joined #lobby: a, b, c" — at most 10 names, then "and N more". */
function rosterLine(names: string[], verb: string, room: string): string {
  if (names.length === 0) return '';
  const shown = names.slice(0, 10).join(', ');
  const more = names.length > 10 ? ` and ${names.length - 10} more` : '';
  if (names.length === 1) return `* ${shown} ${verb} ${room}`;
  return `* ${names.length} people ${verb} ${room}: ${shown}${more}`;
}

/** The encoding variant before the width: which of an event's texts this reader sees. */
function baseVariant(event: ChatEvent, r: Session): string | null {
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
    case 'realname':
    case 'status':
    case 'kill':
    case 'serverban':
    case 'marker':
    case 'sethost':
    case 'host':
      // (A host change: the line protocol shows names, never hosts.)
      return null;
    case 'invite':
      // The invited person's news (others in the room get it for IRC's invite-notify).
      return fold(event.name) === fold(r.name) ? 'l' : null;
    case 'nick':
      return event.newName === r.name ? 'l:self' : 'l';
    case 'kick':
      return event.name === r.name ? 'l:self' : 'l';
    default:
      return 'l';
  }
}

/** The lines an event shows this reader, unwrapped. */
function linesOf(event: ChatEvent, r: Session): OutLine[] {
  switch (event.type) {
    case 'message': {
      const room = inCurrent(r, event.room) ? null : event.room;
      return [formatMessage(event.ts, room, event.from.name, event.text, event.kind)];
    }
    case 'dm':
      if (event.origin === r.id) return [dmLine(event.ts, `-> *${event.to}*`, event.text)];
      if (event.kind === 'me') return [dmLine(event.ts, `*${event.from.name}* *`, event.text)];
      return [dmLine(event.ts, `*${event.from.name}*`, event.text)];
    case 'joined':
      return [plain(`* ${event.who.name} joined ${event.room}`)];
    case 'left':
      if (event.who.name === r.name) return [plain(`* You left ${event.room}`)];
      return [
        plain(`* ${event.who.name} left ${event.room}${event.reason ? ` (${event.reason})` : ''}`),
      ];
    case 'quit':
      return [plain(`* ${event.who.name} left (${event.reason})`)];
    case 'kick':
      if (event.name === r.name) {
        return [
          plain(`* You were kicked from ${event.room} by ${event.by.name} (${event.reason})`),
        ];
      }
      return [
        plain(
          `* ${event.name} was kicked from ${event.room} by ${event.by.name} (${event.reason})`,
        ),
      ];
    case 'nick':
      if (event.newName === r.name) return [plain(`* You are now known as ${event.newName}`)];
      return [plain(`* ${event.who.name} is now known as ${event.newName}`)];
    case 'topic':
      return [plain(`* ${event.by.name} set the topic of ${event.room} to: ${event.topic}`)];
    case 'rename':
      // The Room is the same object under its new name: a current room stays current.
      return [plain(`* ${describeRename(event)}`)];
    case 'mode':
      return describeChanges(event).map((t) => plain(`* ${t}`));
    case 'invite':
      return [plain(`* ${event.by.name} invites you to ${event.room} (type /join ${event.room})`)];
    case 'notice':
      if (event.from) {
        const head = `-${event.from.name}- `;
        return [{ text: head + event.text, prefix: head }];
      }
      return [plain(`* ${event.text}`)];
    case 'shutdown': {
      const lines = [
        plain(
          `* server shutting down${event.reason && event.reason !== 'server shutting down' ? ` (${event.reason})` : ''}`,
        ),
      ];
      // What to do about it: the name waits for its person (resume.ts), and /since.
      if (event.nameHoldMs) {
        lines.push(
          plain(
            `* Your name is kept for you for ${holdText(event.nameHoldMs)}: come back from this address, and /since shows what you missed`,
          ),
        );
      }
      return lines;
    }
    case 'away':
    case 'account':
    case 'realname':
    case 'status':
    case 'kill':
    case 'serverban':
    case 'marker':
    case 'sethost':
    case 'host':
      return [];
    case 'roster':
      return [
        rosterLine(event.joined, 'joined', event.room),
        rosterLine(event.left, 'left', event.room),
      ]
        .filter(Boolean)
        .map(plain);
  }
}

// The lines of the event being fanned out, per base variant, and (measured only when a
// reader has a width) their widest: every recipient of one event asks the same questions, so
// they are answered once. Fan-out is synchronous, so remembering the last event is enough.
interface Unwrapped {
  lines: OutLine[];
  /** Columns of the widest line; -1 until measured. */
  columns: number;
}
let memoEvent: ChatEvent | null = null;
const memo = new Map<string, Unwrapped>();

// The last answer again, without the map: most readers of one event share its base variant.
let lastBase = '';
let last: Unwrapped | null = null;

function unwrapped(event: ChatEvent, r: Session, base: string): Unwrapped {
  if (event !== memoEvent) {
    memoEvent = event;
    memo.clear();
    last = null;
  } else if (last !== null && base === lastBase) return last;
  let m = memo.get(base);
  if (m === undefined) {
    m = { lines: linesOf(event, r), columns: -1 };
    memo.set(base, m);
  }
  lastBase = base;
  last = m;
  return m;
}

function columnsOf(m: Unwrapped): number {
  if (m.columns < 0) {
    m.columns = 0;
    for (const l of m.lines) m.columns = Math.max(m.columns, displayWidth(l.text));
  }
  return m.columns;
}

// Interned `${base}:${width}` keys: no string is built per delivery.
const widthKeys = new Map<string, string[]>();

function widthKey(base: string, width: number): string {
  let keys = widthKeys.get(base);
  if (keys === undefined) widthKeys.set(base, (keys = []));
  return (keys[width] ??= `${base}:${width}`);
}

export const lineEncoder: Encoder = {
  // variant() below returns null for others' bulk joined/left/quit.
  skipsBulkRoster: true,

  variant(event: ChatEvent, r: Session): string | null {
    // What most recipients of a room message take, small enough for V8 to inline into the
    // hub's fan-out loop: an unwrapped reader of someone else's message.
    if (event.type === 'message' && r.caps === 0 && event.origin !== r.id && !event.tagOnly) {
      return inCurrent(r, event.room) ? 'l:c' : 'l:o';
    }
    const base = baseVariant(event, r);
    const width = r.caps;
    if (base === null || width === 0) return base;
    return columnsOf(unwrapped(event, r, base)) <= width ? base : widthKey(base, width);
  },

  farewell(reason: string, r: Session, shutdown?: boolean): Buffer | null {
    // Stopping: the shutdown line was the last word.
    return shutdown ? null : lineBytes(`* Disconnected: ${reason}`, wrapWidth(r));
  },

  encode(event: ChatEvent, r: Session): Buffer | null {
    const base = baseVariant(event, r);
    if (base === null) return null;
    const width = r.caps;
    // Unwrapped (most readers): nothing to share with variant(), so no memo.
    const lines = width === 0 ? linesOf(event, r) : unwrapped(event, r, base).lines;
    if (lines.length === 0) return null;
    return Buffer.from(render(lines, width));
  },
};
