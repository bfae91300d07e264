/**
 * Where private conversations are kept: as the history of a room no one can join, whose
 * key names the people in it. Names cannot hold spaces or start with '@' or '~', and room
 * names start with '#', so a key is never a room's and is read back unambiguously.
 *
 * - `@a b`: two accounts (folded, in a fixed order), readable by both.
 * - `@a ~g`: account `a` with a guest (an unidentified name) `g`, readable by `a` alone.
 *   A guest's name is anyone's once they leave, so whoever holds or registers it later
 *   must not read what an earlier holder said: no account is called `~g`, and guests
 *   have no private history to read (see docs/protocol.md, "Private history").
 */
import { fold } from './names.js';
import type { HistoryQuery } from './ports.js';

/** The conversation of two accounts. */
export function directKey(a: string, b: string): string {
  const [x, y] = [fold(a), fold(b)].sort();
  return `@${x} ${y}`;
}

/** The conversation of `account` with the guest called `guest`, kept for the account only. */
export function guestDirectKey(account: string, guest: string): string {
  return `@${fold(account)} ~${fold(guest)}`;
}

/**
 * The other side of the conversation `key` for the folded account `mine`: its folded name
 * and whether it was a guest; null when `key` is not one of `mine`'s conversations.
 */
export function peerOfKey(key: string, mine: string): { name: string; guest: boolean } | null {
  if (!key.startsWith('@')) return null;
  const space = key.indexOf(' ');
  if (space < 0) return null;
  const a = key.slice(1, space);
  const b = key.slice(space + 1);
  if (b.startsWith('~')) return a === mine ? { name: b.slice(1), guest: true } : null;
  if (a === mine) return { name: b, guest: false };
  if (b === mine) return { name: a, guest: false };
  return null;
}

/**
 * One page from pages of several conversations read with the same range (each the true
 * page of its own key, so their union holds the true page of the union): merged by id
 * and cut at the end `range` keeps (HistoryQuery.keep and its default).
 */
export function mergePages<T extends { id: string }>(
  pages: readonly T[][],
  range: Omit<HistoryQuery, 'room'>,
): T[] {
  if (pages.length === 1) return pages[0] as T[];
  const all = pages.flat().sort((x, y) => {
    const a = BigInt(x.id);
    const b = BigInt(y.id);
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const oldest = (range.keep ?? (range.after !== undefined ? 'oldest' : 'newest')) === 'oldest';
  const limit = Math.max(0, range.limit);
  return oldest ? all.slice(0, limit) : all.slice(Math.max(0, all.length - limit));
}
