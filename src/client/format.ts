/**
 * How the terminal client shows server messages: one or more text lines each, in the
 * line protocol's style, with the room shown when it is not the current one.
 */
import type { ServerMessage, WireHit, WireMessage } from '../protocols/json/schema.js';
import { shutdownText } from '../protocols/shutdown-text.js';

const COLORS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

/** A stable colour per name, so a speaker is easy to follow. */
export function colorName(name: string): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return `\x1b[${COLORS[h % COLORS.length]}m${name}\x1b[0m`;
}

export function clock(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** `2026-12-01 09:12`: a search can find old messages, so the day is shown too. */
export function stamp(ts: number): string {
  const d = new Date(ts);
  const day = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  return `${day} ${clock(ts)}`;
}

function hitLine(m: WireHit, v: View): string {
  const at = `[${stamp(m.ts)}]`;
  if (m.room === undefined) {
    return m.from.toLowerCase() === v.me.toLowerCase()
      ? `${at} -> *${m.with ?? '?'}* ${m.text}`
      : `${at} *${v.paint(m.from)}* ${m.text}`;
  }
  if (m.kind === 'me') return `${at} ${m.room} * ${v.paint(m.from)} ${m.text}`;
  if (m.kind === 'notice') return `${at} ${m.room} -${v.paint(m.from)}- ${m.text}`;
  return `${at} ${m.room} <${v.paint(m.from)}> ${m.text}`;
}

export interface View {
  me: string;
  current: string | null;
  paint(name: string): string;
}

// C0 (but TAB) and C1 controls, ESC among them. Our server strips them already; another
// server, or an old stored message, must still not be able to drive this terminal.
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/** A copy of a server message with every string cleaned of terminal control characters. */
export function clean<T>(value: T): T {
  if (typeof value === 'string') return value.replace(CONTROLS, '') as T;
  if (Array.isArray(value)) return value.map((v: unknown) => clean(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = clean(v);
    return out as T;
  }
  return value;
}

function messageLine(m: WireMessage, v: View): string {
  const where = m.room.toLowerCase() === v.current?.toLowerCase() ? '' : `${m.room} `;
  if (m.kind === 'me') return `[${clock(m.ts)}] ${where}* ${v.paint(m.from)} ${m.text}`;
  if (m.kind === 'notice') return `[${clock(m.ts)}] ${where}-${v.paint(m.from)}- ${m.text}`;
  return `[${clock(m.ts)}] ${where}<${v.paint(m.from)}> ${m.text}`;
}

export function formatEvent(msg: ServerMessage, v: View): string[] {
  switch (msg.type) {
    case 'welcome':
      return [`* Connected to ${msg.server} as ${msg.name}`];
    case 'message':
      return [messageLine(msg, v)];
    case 'dm':
      return msg.from === v.me
        ? [`[${clock(msg.ts)}] -> *${msg.to}* ${msg.text}`]
        : [`[${clock(msg.ts)}] *${v.paint(msg.from)}* ${msg.text}`];
    case 'joined':
      if (msg.name === v.me && msg.members) {
        const out = [
          `* You joined ${msg.room}; ${msg.members.length} here: ${msg.members.map((m) => (m.op ? '@' : '') + m.name).join(', ')}`,
        ];
        if (msg.topic) out.push(`* Topic: ${msg.topic}`);
        return out;
      }
      return [`* ${msg.name} joined ${msg.room}`];
    case 'left':
      if (msg.by) return [`* ${msg.name} was kicked from ${msg.room} by ${msg.by} (${msg.reason})`];
      return [
        `* ${msg.name === v.me ? 'You' : msg.name} left ${msg.room}${msg.reason ? ` (${msg.reason})` : ''}`,
      ];
    case 'quit':
      return [`* ${msg.name} left (${msg.reason})`];
    case 'nick':
      return [`* ${msg.old} is now known as ${msg.name}`];
    case 'topic':
      return [
        msg.by
          ? `* ${msg.by} set the topic of ${msg.room} to: ${msg.topic}`
          : `* Topic of ${msg.room}: ${msg.topic}`,
      ];
    case 'mode':
      return [
        `* ${msg.by} set mode ${msg.modes} ${msg.params.join(' ')} on ${msg.room}`.replace(
          '  ',
          ' ',
        ),
      ];
    case 'away':
      return [];
    case 'rename':
      return [`* ${msg.text}`];
    case 'notice':
      return [msg.from ? `-${msg.from}- ${msg.text}` : `* ${msg.text}`];
    case 'who':
      return [
        `* In ${msg.room} (${msg.members.length}): ${msg.members.map((m) => (m.op ? '@' : m.voice ? '+' : '') + m.name + (m.away ? ' (away)' : '')).join(', ')}`,
      ];
    case 'rooms':
      return [
        `* ${msg.rooms.length} rooms:`,
        ...msg.rooms.map((r) => `*   ${r.name} (${r.members})${r.topic ? ` ${r.topic}` : ''}`),
      ];
    case 'history':
      if (msg.after !== undefined) return resumeLines(msg, v);
      return msg.messages.length === 0
        ? []
        : [
            `* Last ${msg.messages.length} messages in ${msg.room}:`,
            ...msg.messages.map((m) => messageLine(m, { ...v, current: m.room })),
          ];
    case 'dm_history':
      return msg.messages.length === 0
        ? [`* No private messages with ${msg.with} kept`]
        : [
            `* Last ${msg.messages.length} private messages with ${msg.with}:`,
            ...msg.messages.map((m) =>
              m.from === msg.with
                ? `[${clock(m.ts)}] *${v.paint(m.from)}* ${m.text}`
                : `[${clock(m.ts)}] -> *${m.to}* ${m.text}`,
            ),
          ];
    case 'search': {
      const what = `"${msg.terms.join(' ')}" ${msg.room ? `in ${msg.room}` : 'in your rooms'}`;
      const n = msg.messages.length;
      if (n === 0) {
        return [
          msg.next === null
            ? `* Nothing found for ${what}`
            : `* Nothing found for ${what} in the newest matches looked at; /more looks further back`,
        ];
      }
      return [
        `* ${n} message${n === 1 ? '' : 's'} for ${what}, newest first:`,
        ...msg.messages.map((m) => hitLine(m, v)),
        msg.next === null ? '* No more matches' : '* More: /more for older matches',
      ];
    }
    case 'error':
      return [`! ${msg.message}`];
    case 'shutdown':
      return [`* ${shutdownText(msg.reason)}`];
    // Read markers change what is unread, not what is shown.
    case 'marker':
    case 'markers':
    case 'ok':
    case 'pong':
    case 'ping':
      return [];
  }
}

/** A resume replay: what was missed while away, and a gap it could not fill. */
function resumeLines(msg: Extract<ServerMessage, { type: 'history' }>, v: View): string[] {
  const missed = msg.missed ?? msg.messages.length;
  if (missed === 0 && !msg.truncated) return [];
  const n = msg.messages.length;
  const head =
    missed > n
      ? `* ${missed} messages in ${msg.room} while you were away; the last ${n}:`
      : `* ${missed} message${missed === 1 ? '' : 's'} in ${msg.room} while you were away:`;
  const out = [head];
  if (msg.truncated) out.push('* (some older ones are no longer kept by the server)');
  for (const m of msg.messages) out.push(messageLine(m, { ...v, current: m.room }));
  return out;
}

/** The answer to asking for a topic (the server sends it as a `topic` event). */
export function topicAnswer(msg: Extract<ServerMessage, { type: 'topic' }>): string {
  if (!msg.topic) return `* ${msg.room} has no topic`;
  return `* Topic of ${msg.room}: ${msg.topic}${msg.by ? ` (set by ${msg.by})` : ''}`;
}
