/**
 * History paging as every store does it, for the stores that page in memory (memory.ts,
 * and the writes still queued in write-path.ts): one definition of `before`, `after` and
 * `keep` (ports.ts HistoryQuery), so the SQL stores can be checked against it.
 */
import type { HistoryQuery } from '../core/ports.js';

/** Orders message ids (decimal strings of 64-bit integers, ids.ts) numerically. */
export function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Which end of a range the limit keeps (HistoryQuery.keep and its default). */
export function keepOf(query: HistoryQuery): 'oldest' | 'newest' {
  return query.keep ?? (query.after !== undefined ? 'oldest' : 'newest');
}

/** The page `query` asks for from `entries` (oldest first, sorted by id). */
export function pageOf<T extends { id: string }>(entries: readonly T[], query: HistoryQuery): T[] {
  const before = query.before === undefined ? null : BigInt(query.before);
  const after = query.after === undefined ? null : BigInt(query.after);
  const inRange = entries.filter((e) => {
    const id = BigInt(e.id);
    return (before === null || id < before) && (after === null || id > after);
  });
  if (query.limit <= 0) return [];
  return keepOf(query) === 'oldest'
    ? inRange.slice(0, query.limit)
    : inRange.slice(Math.max(0, inRange.length - query.limit));
}

/**
 * True when the stored room key `key` (folded) is a private conversation of the folded
 * account `account`: `@a b` (messaging.ts directKey), or `@a ~guest` for one kept with a
 * guest, where the account is `a` or `b`.
 */
export function isConversationOf(key: string, account: string): boolean {
  if (!key.startsWith('@')) return false;
  const space = key.indexOf(' ');
  if (space < 0) return false;
  return key.slice(1, space) === account || key.slice(space + 1) === account;
}
