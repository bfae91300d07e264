/**
 * Names a store error for people: the reason in the "chat is degraded" notice everyone
 * gets, and in readiness. Short, and never the raw error (which can carry paths or SQL):
 * the log has that.
 */

/** SQLite result codes (https://sqlite.org/rescode.html) and PostgreSQL SQLSTATEs (Appendix A). */
const REASONS: [prefix: string, reason: string][] = [
  ['SQLITE_FULL', 'the disk is full'],
  ['SQLITE_IOERR', 'the disk reports I/O errors'],
  ['SQLITE_READONLY', 'the database is read-only'],
  ['SQLITE_BUSY', 'the database is locked by another process'],
  ['SQLITE_LOCKED', 'the database is locked by another process'],
  ['SQLITE_CORRUPT', 'the database file is damaged'],
  ['SQLITE_NOTADB', 'the database file is damaged'],
  ['SQLITE_CANTOPEN', 'the database file cannot be opened'],
  ['SQLITE_NOMEM', 'the server is out of memory'],
  ['ENOSPC', 'the disk is full'],
  ['EDQUOT', 'the disk quota is used up'],
  ['EIO', 'the disk reports I/O errors'],
  ['53100', 'the disk is full'], // disk_full
  ['53200', 'the database server is out of memory'], // out_of_memory
  ['53300', 'the database server has too many connections'], // too_many_connections
  ['25006', 'the database is read-only'], // read_only_sql_transaction
  ['57P', 'the database server is shutting down or restarting'], // admin_shutdown, crash_shutdown, cannot_connect_now
  ['08', 'the database server is unreachable'], // connection_exception class
  ['ECONNREFUSED', 'the database server is unreachable'],
  ['ECONNRESET', 'the database server is unreachable'],
  ['ETIMEDOUT', 'the database server is unreachable'],
  ['EHOSTUNREACH', 'the database server is unreachable'],
];

export function failureReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    for (const [prefix, reason] of REASONS) if (code.startsWith(prefix)) return reason;
  }
  // pg reports a dropped connection without a code.
  const message = err instanceof Error ? err.message : '';
  if (message.includes('Connection terminated') || message.includes('connection timeout')) {
    return 'the database server is unreachable';
  }
  return 'a database error';
}

/** The error's code for logs and tests ("SQLITE_FULL", "53100"), or its class name. */
export function failureCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.name : typeof err;
}

/** SQLite codes caused by a value, not by the disk (https://sqlite.org/rescode.html). */
const CONTENT_CODES = ['SQLITE_CONSTRAINT', 'SQLITE_MISMATCH', 'SQLITE_TOOBIG', 'SQLITE_RANGE'];

/**
 * True when a write failed because of what it holds, so retrying it can never succeed:
 * SQLite's constraint and type codes, PostgreSQL's classes 22 (data exception: a NUL in
 * text, a number out of range) and 23 (integrity constraint violation), and a value the
 * writer could not even convert (SyntaxError, RangeError: an id that is not a number).
 * Everything else (the disk, the server, the network, a closed connection) is retried.
 */
export function isContentFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (CONTENT_CODES.some((c) => code.startsWith(c))) return true;
    return code.length === 5 && (code.startsWith('22') || code.startsWith('23'));
  }
  return err instanceof SyntaxError || err instanceof RangeError;
}
