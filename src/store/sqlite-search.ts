/**
 * The SQLite store's search: the FTS5 index (`messages_fts`, sqlite.ts's schema) gives the
 * newest matches in any room, at most `scan`; search-page.ts keeps those the person may
 * see; their rows are read last. Ids are read as BigInt throughout: 19 digits are more
 * than a JavaScript number holds.
 */
import type Database from 'better-sqlite3';
import type { SearchPage, SearchQuery } from '../core/ports.js';
import { isPrefixTerm } from '../core/search-terms.js';
import { cutPage, type Match } from './search-page.js';
import { entryOf, type StoredRow } from './sqlite-rows.js';

/** Past every message id (ids.ts): the `before` of a search's first page. */
const NO_ID_ABOVE = 9223372036854775807n;

const WINDOW_SQL = `SELECT f.rowid AS id, m.room_key AS roomKey
   FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? AND rowid < ?
         ORDER BY rowid DESC LIMIT ?) f
   JOIN messages m ON m.id = f.rowid
   ORDER BY f.rowid DESC`;

const windows = new WeakMap<Database.Database, Database.Statement>();

export function searchIndex(db: Database.Database, q: SearchQuery): SearchPage {
  let statement = windows.get(db);
  if (!statement) {
    statement = db.prepare(WINDOW_SQL).safeIntegers(true);
    windows.set(db, statement);
  }
  const before = q.before === undefined ? NO_ID_ABOVE : BigInt(q.before);
  const window = statement.all(ftsQuery(q.terms), before, q.scan) as {
    id: bigint;
    roomKey: string;
  }[];
  const { ids, next } = cutPage(
    window.map((r): Match => ({ id: r.id.toString(), roomKey: r.roomKey })),
    q,
  );
  if (ids.length === 0) return { entries: [], next };
  const rows = db
    .prepare(
      `SELECT * FROM messages WHERE id IN (${ids.map(() => '?').join(',')}) ORDER BY id DESC`,
    )
    .safeIntegers(true)
    .all(...ids.map((id) => BigInt(id))) as StoredRow[];
  return {
    entries: rows.map(entryOf),
    next,
  };
}

/**
 * The FTS5 query for `terms` (https://sqlite.org/fts5.html#full_text_query_syntax): each
 * term a quoted string (so no word is ever an operator: AND, NEAR, a column filter), with
 * a prefix star from two characters on, all of them required. Terms hold only letters
 * and digits (search-terms.ts); quotes are doubled all the same.
 */
export function ftsQuery(terms: readonly string[]): string {
  return terms.map((t) => `"${t.replaceAll('"', '""')}"${isPrefixTerm(t) ? '*' : ''}`).join(' ');
}
