/**
 * What every store's search shares: which stored rooms a search may see, and how a page
 * and its cursor are cut from the matches a store found. A store's full-text index finds
 * matches in every room, newest first, at most `scan` of them (the bound on a request's
 * work); this keeps those the person may read, at most `limit`, and says where the next
 * page starts: just before the last one shown when more are known, just before the last
 * match looked at when the window ended first, nowhere when the matches ran out.
 */
import { fold } from '../core/names.js';
import type { SearchQuery } from '../core/ports.js';

/** A match as the index gives it: its id and the (folded) key of its room. */
export interface Match {
  id: string;
  roomKey: string;
}

/** True for the room keys `q` may see: its rooms, and its account's private conversations. */
export function scopeOf(q: SearchQuery): (roomKey: string) => boolean {
  const rooms = new Set(q.rooms.map(fold));
  const account = q.account === null ? null : fold(q.account);
  return (key) => rooms.has(key) || (account !== null && isDirectKeyOf(key, account));
}

/**
 * Whether `key` is a private conversation (messaging.ts `directKey`: `@a b`, both names
 * folded and sorted) that `account` (folded) is one side of.
 */
export function isDirectKeyOf(key: string, account: string): boolean {
  if (!key.startsWith('@')) return false;
  const space = key.indexOf(' ');
  if (space < 0) return false;
  return key.slice(1, space) === account || key.slice(space + 1) === account;
}

/**
 * Cuts a page from `window` (matches newest first, as many as the index gave, at most
 * `q.scan`): the ids to show and the next page's cursor.
 */
export function cutPage(
  window: readonly Match[],
  q: SearchQuery,
): { ids: string[]; next: string | null } {
  const visible = scopeOf(q);
  const ids: string[] = [];
  for (const m of window) {
    if (!visible(m.roomKey)) continue;
    // One more than the page: there is an older page, starting before the last shown.
    if (ids.length === q.limit) return { ids, next: ids[ids.length - 1] as string };
    ids.push(m.id);
  }
  const last = window[window.length - 1];
  return { ids, next: window.length >= q.scan && last ? last.id : null };
}
