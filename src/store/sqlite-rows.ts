/**
 * Message rows as SQLite returns them, and as history returns them: shared by the store
 * and its full-text search, which reads the same rows.
 */
import type { HistoryEntry } from '../core/events.js';

/** A message row read with safeIntegers: every INTEGER column a BigInt. */
export interface StoredRow {
  id: bigint;
  room: string;
  sender: string;
  mask: string;
  text: string;
  kind: string;
  ts: bigint;
}

/** A row read with safeIntegers as history returns it (ids exact: they need 64 bits). */
export function entryOf(r: StoredRow): HistoryEntry {
  return {
    id: r.id.toString(),
    ts: Number(r.ts),
    room: r.room,
    from: r.sender,
    mask: r.mask,
    text: r.text,
    kind: r.kind as HistoryEntry['kind'],
  };
}
