/**
 * A room's recent history on JOIN (`--history-on-join`), as IRC lines.
 *
 * Clients with `server-time` and `batch` get a `chathistory` batch (IRCv3 batch): they can
 * show the lines as history at their original times. Every other client gets a NOTICE
 * saying how many lines follow and since when, and each line's text starts with its
 * original time. That includes clients with `server-time` alone: irssi negotiates it but
 * by default (`show_server_time OFF`) stamps every line with the time it arrived, so a
 * bare replay would pass for ten new messages after every reconnect.
 *
 * Either way the lines are cut exactly as live delivery cuts them (`messageLines`), within
 * 512 bytes (LINELEN, RFC 2812 2.3).
 */
import type { HistoryEntry } from '../../core/events.js';
import type { Room } from '../../core/room.js';
import { ChatError } from '../../core/errors.js';
import { fold } from '../../core/names.js';
import { positionIn } from '../../core/resume.js';
import { clock } from '../../core/text.js';
import { Cap } from './caps.js';
import type { IrcClient } from './client.js';
import { clientTagItems, isoTime, messageLines } from './encoder.js';

let historyBatch = 0;

/** YYYY-MM-DD in the server's time zone, like `clock`. */
function day(ts: number): string {
  const d = new Date(ts);
  const two = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/** `[HH:MM] `, with the date before the time when the line is not from today. */
function stamp(ts: number, today: string): string {
  const date = day(ts);
  return date === today ? `[${clock(ts)}] ` : `[${date} ${clock(ts)}] `;
}

function tagSection(tags: string[]): string {
  return tags.length ? `@${tags.join(';')} ` : '';
}

export async function replayHistory(c: IrcClient, room: Room): Promise<void> {
  const limit = c.hub.options.historyOnJoin;
  // A client with draft/chathistory asks for what it lacks (CHATHISTORY LATEST/AFTER):
  // a replay on top would show those lines twice.
  if (c.has(Cap.ChatHistory)) return;
  const after = takeSeen(c, room.name);
  if (after !== undefined) return replayMissed(c, room, after);
  if (limit <= 0) return;
  const entries = await c.hub.messaging.history(c.session, room.name, limit);
  if (entries.length === 0 || c.session.closed) return;
  const batched = c.has(Cap.ServerTime) && c.has(Cap.Batch);
  if (batched) sendBatch(c, room.name, entries);
  else sendAnnounced(c, room.name, entries, `Last ${count(entries.length)} in ${room.name}`);
}

/** The position this nick's last session reached in `room`, once per room and session. */
function takeSeen(c: IrcClient, room: string): string | undefined {
  const seen = c.state.seen;
  const after = positionIn(seen, room);
  if (seen && after !== undefined) {
    for (const name of Object.keys(seen.rooms)) {
      if (fold(name) === fold(room)) delete seen.rooms[name];
    }
  }
  return after;
}

/**
 * Back under the same nick: exactly what the room said since this nick's last session
 * left it, up to this join (so nothing is shown twice: lines the client already has
 * are not replayed, and live ones follow), at most `--resume-limit` of it with a notice
 * saying how many were missed when there were more. Nothing missed, nothing shown.
 */
async function replayMissed(c: IrcClient, room: Room, after: string): Promise<void> {
  const { hub, session } = c;
  let r;
  try {
    r = await hub.resume.replay(session, room.name, after, hub.options.resumeLimit);
  } catch (err) {
    // Left or kicked meanwhile: nothing to replay to them.
    if (err instanceof ChatError) return;
    throw err;
  }
  if (r.missed === 0 || r.messages.length === 0 || session.closed) return;
  const shown = r.messages.length;
  const heading =
    shown < r.missed || r.truncated
      ? `You missed ${r.truncated ? 'more than ' : ''}${count(r.missed)} in ${room.name}; the last ${shown} follow`
      : `You missed ${count(shown)} in ${room.name}`;
  if (c.has(Cap.ServerTime) && c.has(Cap.Batch)) {
    announce(c, room.name, heading, r.messages);
    sendBatch(c, room.name, r.messages);
  } else sendAnnounced(c, room.name, r.messages, heading);
}

const count = (n: number): string => `${n} message${n === 1 ? '' : 's'}`;

function entryLines(
  c: IrcClient,
  room: string,
  e: HistoryEntry,
  tags: string[],
  timeStamp = '',
): string {
  if (c.has(Cap.MessageTags)) tags.push(`msgid=${e.id}`, ...clientTagItems(e.tags));
  return messageLines(tagSection(tags), e.mask, room, e.text, e.kind, timeStamp);
}

function sendBatch(c: IrcClient, room: string, entries: HistoryEntry[]): void {
  const id = `h${(++historyBatch).toString(36)}`;
  let out = `:${c.serverName} BATCH +${id} chathistory ${room}\r\n`;
  for (const e of entries) out += entryLines(c, room, e, [`batch=${id}`, `time=${isoTime(e.ts)}`]);
  out += `:${c.serverName} BATCH -${id}\r\n`;
  c.session.send(Buffer.from(out));
}

/** `<heading>, since 2026-12-01 09:17 (server time):`, the first line's time. */
function announce(c: IrcClient, room: string, heading: string, entries: HistoryEntry[]): void {
  const first = (entries[0] as HistoryEntry).ts;
  c.fromServer('NOTICE', room, `${heading}, since ${day(first)} ${clock(first)} (server time):`);
}

function sendAnnounced(c: IrcClient, room: string, entries: HistoryEntry[], heading: string): void {
  announce(c, room, heading, entries);
  const today = day(c.hub.clock.now());
  let out = '';
  for (const e of entries) {
    const tags = c.has(Cap.ServerTime) ? [`time=${isoTime(e.ts)}`] : [];
    out += entryLines(c, room, e, tags, stamp(e.ts, today));
  }
  c.session.send(Buffer.from(out));
}
