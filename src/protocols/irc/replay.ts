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
  if (limit <= 0 || c.has(Cap.ChatHistory)) return;
  const entries = await c.hub.messaging.history(c.session, room.name, limit);
  if (entries.length === 0 || c.session.closed) return;
  const batched = c.has(Cap.ServerTime) && c.has(Cap.Batch);
  if (batched) sendBatch(c, room.name, entries);
  else sendAnnounced(c, room.name, entries);
}

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

function sendAnnounced(c: IrcClient, room: string, entries: HistoryEntry[]): void {
  const first = (entries[0] as HistoryEntry).ts;
  const n = entries.length;
  c.fromServer(
    'NOTICE',
    room,
    `Last ${n} message${n === 1 ? '' : 's'} in ${room}, since ${day(first)} ${clock(first)} (server time):`,
  );
  const today = day(c.hub.clock.now());
  let out = '';
  for (const e of entries) {
    const tags = c.has(Cap.ServerTime) ? [`time=${isoTime(e.ts)}`] : [];
    out += entryLines(c, room, e, tags, stamp(e.ts, today));
  }
  c.session.send(Buffer.from(out));
}
