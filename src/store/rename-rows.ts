/**
 * The room_renames table of the SQL stores (Store.saveRename): one row per old name. Its
 * statements, with the backend's placeholders (`?` for SQLite, `$n` for PostgreSQL), and
 * its rows as records.
 */
import type { RenameRecord } from '../core/ports.js';

/** A backend's placeholder for the nth parameter (from 1). */
export type Placeholder = (n: number) => string;

/** A row of room_renames (PostgreSQL gives BIGINT as a string). */
export interface RenameRow {
  from_key: string;
  to_name: string;
  at: number | string;
  by_name: string;
  reason: string;
}

const COLUMNS = 'from_key, to_name, at, by_name, reason';

/** The statements of room_renames in a backend's dialect (its placeholders). */
export interface RenameSql {
  /**
   * The upsert and the prune, to commit together. The upsert replaces a row only with a
   * rename at least as late. The prune deletes the rows older than the `keep`th newest: a
   * cut by time rather than "not among the newest", so that a row another node updates
   * meanwhile (PostgreSQL checks a row it waited for again, as it is now) is judged by its
   * new time and stays.
   */
  save(r: RenameRecord, keep: number): { sql: string; params: unknown[] }[];
  /** The newest renames (LIMIT the one parameter), newest first. */
  newest: string;
  /** The rename of one old name (the one parameter, folded). */
  from: string;
}

export function renameSql(p: Placeholder): RenameSql {
  return {
    save: (r, keep) => [
      {
        sql: `INSERT INTO room_renames (${COLUMNS}) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})
              ON CONFLICT (from_key) DO UPDATE SET to_name = excluded.to_name, at = excluded.at,
                by_name = excluded.by_name, reason = excluded.reason
              WHERE excluded.at >= room_renames.at`,
        params: [r.from, r.to, r.at, r.by, r.reason],
      },
      {
        sql: `DELETE FROM room_renames
              WHERE at < (SELECT at FROM room_renames ORDER BY at DESC LIMIT 1 OFFSET ${p(1)})`,
        params: [Math.max(0, keep - 1)],
      },
    ],
    newest: `SELECT ${COLUMNS} FROM room_renames ORDER BY at DESC, from_key DESC LIMIT ${p(1)}`,
    from: `SELECT ${COLUMNS} FROM room_renames WHERE from_key = ${p(1)}`,
  };
}

export function renameOf(row: RenameRow): RenameRecord {
  return {
    from: row.from_key,
    to: row.to_name,
    at: Number(row.at),
    by: row.by_name,
    reason: row.reason,
  };
}
