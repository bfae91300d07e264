/**
 * Searching history: the words of a search (search-terms.ts), the rooms it may look in
 * (the access policy, access.ts, exactly as for history), and the store's full-text index.
 *
 * - With a room: that room, when `mayRead` allows it (a member, or a server operator);
 *   anyone else gets the error history gives (a secret or vanished room is no room).
 * - Without: every room the person is in now, and, for an identified account, its own
 *   private conversations (kept between identified accounts, messaging.ts) — never
 *   anyone else's.
 *
 * Newest first, a page at a time: the reply's `next` is the `before` of the next page.
 */
import { mayRead, requireReadable } from './access.js';
import type { Core } from './context.js';
import { peerOfKey } from './direct-keys.js';
import type { MessageKind } from './events.js';
import { requireRegistered } from './membership.js';
import { checkRoom, fold } from './names.js';
import type { SearchQuery } from './ports.js';
import type { Session } from './session.js';
import { searchTerms } from './search-terms.js';

export interface SearchRequest {
  text: string;
  /** Only this room. */
  room?: string;
  /** Only messages older than this id (the `next` of the page before). */
  before?: string;
  /** Page size; at most `searchPageMax`, which is also the default. */
  limit?: number;
}

/** A message found. */
export interface SearchHit {
  id: string;
  ts: number;
  /** The room, or null for a private message. */
  room: string | null;
  /** For a private message: the other side's account. */
  with?: string;
  from: string;
  text: string;
  kind: MessageKind;
}

export interface SearchResult {
  /** The words looked for. */
  terms: string[];
  /** Newest first. */
  hits: SearchHit[];
  /** The `before` of the next, older page, or null when there is none. */
  next: string | null;
}

export async function search(core: Core, s: Session, req: SearchRequest): Promise<SearchResult> {
  requireRegistered(s);
  const o = core.options;
  const terms = searchTerms(req.text, { maxBytes: o.searchQueryBytes, maxTerms: o.searchTermsMax });
  let rooms: string[];
  let account: string | null = null;
  if (req.room !== undefined) {
    checkRoom(req.room, o.roomNameLength);
    rooms = [requireReadable(s, core.rooms.get(req.room), req.room).name];
  } else {
    rooms = [];
    for (const r of s.rooms) if (mayRead(s, r)) rooms.push(r.name);
    account = s.account;
  }
  const limit = Math.max(1, Math.min(req.limit ?? o.searchPageMax, o.searchPageMax));
  if (rooms.length === 0 && account === null) return { terms, hits: [], next: null };
  const query: SearchQuery = {
    terms,
    rooms,
    account,
    limit,
    scan: o.searchScan,
    ...(req.before !== undefined ? { before: req.before } : {}),
  };
  const page = await core.store.search(query);
  const mine = account === null ? null : fold(account);
  return {
    terms,
    hits: page.entries.map((e): SearchHit => {
      const base = { id: e.id, ts: e.ts, from: e.from, text: e.text, kind: e.kind };
      if (!e.room.startsWith('@') || mine === null) return { ...base, room: e.room };
      return { ...base, room: null, with: otherSide(e.room, mine, e.from) };
    }),
    next: page.next,
  };
}

/**
 * The other side of a private conversation's key (`@a b`, or `@a ~guest`: direct-keys.ts):
 * the sender when it is not `mine`. Keys are folded, so the sender's spelling is preferred.
 */
function otherSide(key: string, mine: string, from: string): string {
  if (fold(from) !== mine) return from;
  return peerOfKey(key, mine)?.name ?? from;
}
