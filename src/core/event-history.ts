/**
 * Which room events are kept for IRCv3 event playback (draft/event-playback: CHATHISTORY
 * plays joins, parts, quits, kicks, topics, renames, mode changes and TAGMSGs back beside
 * the messages, ircv3.net/specs/extensions/chathistory), and keeping them.
 *
 * Kept events go to a table of their own (Store.appendEvent), so every reader of messages
 * (line/JSON/web replays, resume, "You missed N messages", search, read markers) sees
 * exactly what it saw before. An event that is kept gets a message id before it is sent,
 * from the same source as messages (ids.ts): live and played back it carries the same
 * msgid and time, and msgid references order events and messages alike.
 *
 * What it costs is bounded:
 * - joins, parts, quits and renames are kept only in rooms of at most
 *   `rosterDigestThreshold` members (the rooms whose joins are not `bulk`): a big room's
 *   comings and goings are not worth a row each (N people joining would be N rows per
 *   join burst, and their quits as many again);
 * - kicks, topics and mode changes, which only operators and members make one at a time,
 *   are kept in any room;
 * - a TAGMSG is kept only when it carries a tag meant to last (KEPT_TAGS: a reaction, or
 *   a sender's explicit `+draft/persist`, as ergo's default whitelist): typing
 *   notifications are never written;
 * - nothing is kept while the store refuses writes, or while shutting down (the quits of
 *   every local session would be thousands of rows saying the server restarted);
 * - the stores keep at most `eventHistory` events per room (retention, or the ring of
 *   `--store memory`), and age out with messages under --retention-days.
 * Only the node that emits an event keeps it (hub.ts `emit`), so a cluster writes it once.
 */
import type { Core } from './context.js';
import type { ChatEvent, EventDetail, EventEntry } from './events.js';

/** Client tags that make a TAGMSG worth keeping (reactions, and an explicit request). */
export const KEPT_TAGS: ReadonlySet<string> = new Set([
  '+draft/react',
  '+react',
  '+draft/persist',
  '+persist',
]);

/** True when a TAGMSG with these client tags is kept. */
export function keepsTagmsg(tags: Record<string, string> | undefined): boolean {
  if (!tags) return false;
  for (const k of Object.keys(tags)) if (KEPT_TAGS.has(k)) return true;
  return false;
}

/** The events that can be kept: every other type (messages first) is let through at once. */
const KEPT_TYPES: ReadonlySet<ChatEvent['type']> = new Set([
  'joined',
  'left',
  'quit',
  'nick',
  'kick',
  'topic',
  'mode',
]);

/** Whether the store can take an event now: one that keeps them and is not refusing writes. */
export function mayKeepEvents(core: Core): boolean {
  const { store } = core;
  if (!store.appendEvent || core.options.eventHistory <= 0 || core.shuttingDown) return false;
  return store.healthy() && (store.writable?.() ?? true);
}

/** The rooms among `names` small enough to keep comings and goings for. */
function smallRooms(core: Core, names: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    const room = core.rooms.get(name);
    if (room && room.size <= core.options.rosterDigestThreshold) out.push(room.name);
  }
  return out;
}

function rows(
  event: { id?: string; ts: number },
  rooms: readonly string[],
  who: { name: string; mask: string },
  detail: EventDetail,
): EventEntry[] | null {
  if (rooms.length === 0 || event.id === undefined) return null;
  const { id, ts } = event;
  return rooms.map((room) => ({ id, ts, room, from: who.name, mask: who.mask, detail }));
}

/**
 * Decides whether `event` is kept and, when it is, gives it its id (before it is sent, so
 * every recipient sees the id) and returns the rows to write once it has been delivered.
 */
export function prepareKept(
  core: Core,
  event: ChatEvent,
  newId: (ts: number) => string,
): EventEntry[] | null {
  // On every emit's path: one set lookup for the events never kept.
  if (!KEPT_TYPES.has(event.type) || !mayKeepEvents(core)) return null;
  let rooms: string[];
  switch (event.type) {
    case 'joined':
    case 'left':
      if (event.bulk) return null;
      rooms = [event.room];
      break;
    case 'quit':
      if (event.bulk) return null;
      rooms = smallRooms(core, event.rooms);
      break;
    case 'nick':
      rooms = smallRooms(core, event.rooms);
      break;
    case 'kick':
    case 'topic':
      rooms = [event.room];
      break;
    case 'mode':
      if (event.changes.length === 0) return null;
      rooms = [event.room];
      break;
    default:
      return null;
  }
  if (rooms.length === 0) return null;
  event.id = newId(event.ts);
  switch (event.type) {
    case 'joined':
      return rows(event, rooms, event.who, {
        kind: 'join',
        account: event.who.account,
        realname: event.realname,
      });
    case 'left':
      return rows(event, rooms, event.who, { kind: 'part', reason: event.reason });
    case 'quit':
      return rows(event, rooms, event.who, { kind: 'quit', reason: event.reason });
    case 'nick':
      return rows(event, rooms, event.who, { kind: 'nick', newName: event.newName });
    case 'kick':
      return rows(event, rooms, event.by, { kind: 'kick', name: event.name, reason: event.reason });
    case 'topic':
      return rows(event, rooms, event.by, { kind: 'topic', topic: event.topic });
    case 'mode':
      return rows(event, rooms, event.by, { kind: 'mode', changes: event.changes });
    default:
      return null;
  }
}

/** Writes the rows prepareKept gave (fire-and-forget, like the store's small writes). */
export function keepRows(core: Core, entries: readonly EventEntry[]): void {
  const { store } = core;
  if (!store.appendEvent) return;
  for (const e of entries) store.appendEvent(e);
}
