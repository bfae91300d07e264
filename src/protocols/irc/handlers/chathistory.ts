/**
 * CHATHISTORY (IRCv3 draft/chathistory, ircv3.net/specs/extensions/chathistory): pages of a
 * channel's history or of a private conversation, in a `chathistory` batch, and TARGETS,
 * the conversations with recent history, in a `draft/chathistory-targets` batch.
 *
 * Every read goes through the core's access policy (core/access.ts, as JSON `history`
 * does): a channel one may not read is INVALID_TARGET exactly like one that does not
 * exist, so secret channels do not leak. Private history is the asker's account's
 * conversation with the other name (its account's, and guests' who had that name), and
 * only for the identified (core/messaging.ts, core/direct-keys.ts).
 * A client with draft/event-playback also gets the room events kept beside the messages
 * (core/event-history.ts: joins, parts, quits, kicks, topics, renames, modes, TAGMSGs),
 * merged into the same page in id order, the limit counting both; any other client gets
 * the messages alone, exactly as before. Pages go out as the client reads them
 * (core/pacer.ts), each message cut to 512-byte lines as live delivery cuts it.
 */
import { mergePages } from '../../../core/direct-keys.js';
import type { EventEntry, HistoryEntry } from '../../../core/events.js';
import { ChatError, ErrorCode } from '../../../core/errors.js';
import { fold } from '../../../core/names.js';
import { sendPaced } from '../../../core/pacer.js';
import { Cap } from '../caps.js';
import type { IrcClient } from '../client.js';
import type { IrcCommand } from '../command.js';
import { clientTagItems, isoTime, messageLines } from '../encoder.js';
import { eventLine } from '../event-lines.js';
import { idRanges, parseChathistory, type ChathistoryRequest } from '../chathistory-request.js';

let batches = 0;

/** The reasons a target's history cannot be shown to this asker: INVALID_TARGET. */
const UNREADABLE = new Set<string>([
  ErrorCode.NoSuchRoom,
  ErrorCode.NotInRoom,
  ErrorCode.RoomInvalid,
  ErrorCode.NoSuchUser,
  ErrorCode.NotIdentified,
  ErrorCode.NotRegistered,
]);

function fail(c: IrcClient, code: string, ...params: string[]): void {
  c.fail('CHATHISTORY', code, ...params);
}

/** A new batch id, or null for a client without `batch` (it gets the bare lines). */
function newBatch(c: IrcClient): string | null {
  return c.has(Cap.Batch) ? `ch${(++batches).toString(36)}` : null;
}

/** Sends `pieces` (each one message's lines) in the batch `id` (already in their tags). */
function sendBatch(
  c: IrcClient,
  id: string | null,
  opening: string,
  pieces: string[],
): Promise<void> {
  const out: Buffer[] = [];
  if (id !== null) out.push(Buffer.from(`:${c.serverName} BATCH +${id} ${opening}\r\n`));
  for (const p of pieces) out.push(Buffer.from(p));
  if (id !== null) out.push(Buffer.from(`:${c.serverName} BATCH -${id}\r\n`));
  // A labeled command's output is gathered and sent whole (labeled-response): pacing
  // would wait for a drain that gathering never gives.
  if (c.capturing) {
    for (const b of out) c.session.send(b);
    return Promise.resolve();
  }
  return sendPaced(c.session, out, c.hub.options.sendQueueBytes);
}

function tagList(c: IrcClient, batch: string | null, e: { id: string; ts: number }): string[] {
  const tags: string[] = [];
  if (batch !== null) tags.push(`batch=${batch}`);
  if (c.has(Cap.ServerTime)) tags.push(`time=${isoTime(e.ts)}`);
  if (c.has(Cap.MessageTags)) tags.push(`msgid=${e.id}`);
  return tags;
}

function tagsFor(c: IrcClient, batch: string | null, e: HistoryEntry): string {
  const tags = tagList(c, batch, e);
  // A message's client-only tags (a reply, a reaction's target) went live to message-tags
  // clients: a replay shows them the same.
  if (c.has(Cap.MessageTags)) tags.push(...clientTagItems(e.tags));
  return tags.length ? `@${tags.join(';')} ` : '';
}

/** A page's items: messages, and with event playback kept events, in id order. */
type Item = HistoryEntry | EventEntry;

function isEvent(e: Item): e is EventEntry {
  return (e as EventEntry).detail !== undefined;
}

async function readPages(
  c: IrcClient,
  request: Exclude<ChathistoryRequest, { sub: 'TARGETS' }>,
): Promise<{ entries: Item[]; direct: string | null }> {
  const { messaging } = c.hub;
  const channel = request.target.startsWith('#');
  const events = c.has(Cap.EventPlayback);
  const entries: Item[] = [];
  let direct: string | null = null;
  for (const q of idRanges(request)) {
    const range = { ...q.range, limit: q.limit };
    let messages: HistoryEntry[];
    let kept: EventEntry[] = [];
    if (channel) {
      messages = await messaging.historyPage(c.session, request.target, range);
      if (events) kept = await messaging.eventPage(c.session, request.target, range);
    } else {
      const page = await messaging.directPage(c.session, request.target, range);
      direct = page.peer;
      messages = page.entries;
      if (events) kept = await messaging.directEventPage(c.session, request.target, range);
    }
    // Each page holds the limit's worth of its own kind: the range's first (or last)
    // `limit` of both together are among them.
    entries.push(...(kept.length === 0 ? messages : mergePages<Item>([messages, kept], range)));
  }
  return { entries, direct };
}

async function history(
  c: IrcClient,
  request: Exclude<ChathistoryRequest, { sub: 'TARGETS' }>,
): Promise<void> {
  let page: { entries: Item[]; direct: string | null };
  try {
    page = await readPages(c, request);
  } catch (err) {
    if (!(err instanceof ChatError)) throw err;
    if (UNREADABLE.has(err.code)) {
      fail(c, 'INVALID_TARGET', request.sub, request.target, 'Messages could not be retrieved');
    } else {
      fail(c, 'MESSAGE_ERROR', request.sub, request.target, 'Messages could not be retrieved');
    }
    return;
  }
  if (c.session.closed) return;
  const batch = newBatch(c);
  const me = c.session.account === null ? '' : fold(c.session.account);
  const pieces = page.entries.map((e) => {
    // A private message was addressed to the other person, or to me.
    const to = page.direct === null ? e.room : e.from.toLowerCase() === me ? page.direct : c.nick;
    if (isEvent(e)) return eventLine(c.session.caps, tagList(c, batch, e), e, to);
    return messageLines(tagsFor(c, batch, e), e.mask, to, e.text, e.kind);
  });
  // The target passed the name or room rules to get here: one clean word.
  await sendBatch(c, batch, `chathistory ${request.target}`, pieces);
}

async function targets(
  c: IrcClient,
  request: Extract<ChathistoryRequest, { sub: 'TARGETS' }>,
): Promise<void> {
  const after = Math.min(request.from, request.to);
  const before = Math.max(request.from, request.to);
  let found;
  try {
    found = await c.hub.messaging.conversations(c.session, after, before, request.limit);
  } catch (err) {
    if (!(err instanceof ChatError)) throw err;
    fail(c, 'MESSAGE_ERROR', 'TARGETS', 'Messages could not be retrieved');
    return;
  }
  if (c.session.closed) return;
  const batch = newBatch(c);
  const pieces = found.map(
    (t) =>
      `${batch !== null ? `@batch=${batch} ` : ''}:${c.serverName} CHATHISTORY TARGETS ${t.target} ${isoTime(t.ts)}\r\n`,
  );
  await sendBatch(c, batch, 'draft/chathistory-targets', pieces);
}

async function runChathistory(c: IrcClient, m: { params: string[] }): Promise<void> {
  const parsed = parseChathistory(m.params, c.hub.options.historyPageMax);
  if (!parsed.ok) {
    fail(c, parsed.code, parsed.sub, parsed.text);
    return;
  }
  const r = parsed.request;
  if (r.sub === 'TARGETS') await targets(c, r);
  else await history(c, r);
}

export const chathistory: IrcCommand[] = [
  { name: 'CHATHISTORY', minParams: 1, run: (c, m) => runChathistory(c, m) },
];
