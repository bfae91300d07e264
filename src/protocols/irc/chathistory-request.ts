/**
 * CHATHISTORY's parameters (ircv3.net/specs/extensions/chathistory), parsed without I/O:
 *
 *   CHATHISTORY LATEST  <target> <* | msgref> <limit>
 *   CHATHISTORY BEFORE  <target> <msgref> <limit>
 *   CHATHISTORY AFTER   <target> <msgref> <limit>
 *   CHATHISTORY AROUND  <target> <msgref> <limit>
 *   CHATHISTORY BETWEEN <target> <msgref> <msgref> <limit>
 *   CHATHISTORY TARGETS <timestamp> <timestamp> <limit>
 *
 * A msgref is `msgid=<id>` or `timestamp=<YYYY-MM-DDThh:mm:ss.sssZ>` (MSGREFTYPES). Every
 * reference becomes bounds on message ids, which are what the store pages by: our ids are
 * `ms × 10^6 + …` (core/ids.ts), so the messages of millisecond T have ids from T × 10^6
 * to T × 10^6 + 999,999, and "before T" / "after T" (the spec's exclusive bounds) are id
 * bounds. (A burst that borrows the next millisecond's ids, and ids of versions before
 * that format, can make a timestamp bound one message off; msgid bounds are exact.)
 *
 * Anything a client sends gives a request or a reason, never an exception.
 */

const MS = 1_000_000n;
/** The largest message id (ids fit a signed 64-bit integer). */
const MAX_ID = (1n << 63n) - 1n;
/** Timestamps are clamped to what an id can hold (the year 2262, ids.ts). */
const MAX_MS = Number(MAX_ID / MS) - 1;

export type MsgRef = { kind: 'msgid'; id: bigint } | { kind: 'timestamp'; ms: number };

/** What a store query needs from a reference: id bounds, exclusive like the spec's. */
export interface IdRange {
  before?: string;
  after?: string;
  keep: 'oldest' | 'newest';
}

export type ChathistoryRequest =
  | { sub: 'LATEST'; target: string; since: MsgRef | null; limit: number }
  | { sub: 'BEFORE' | 'AFTER' | 'AROUND'; target: string; ref: MsgRef; limit: number }
  | { sub: 'BETWEEN'; target: string; from: MsgRef; to: MsgRef; limit: number }
  | { sub: 'TARGETS'; from: number; to: number; limit: number };

export type Parsed =
  | { ok: true; request: ChathistoryRequest }
  | { ok: false; code: 'INVALID_PARAMS' | 'NEED_MORE_PARAMS'; sub: string; text: string };

const SUBCOMMANDS = ['LATEST', 'BEFORE', 'AFTER', 'AROUND', 'BETWEEN', 'TARGETS'] as const;
type Sub = (typeof SUBCOMMANDS)[number];
/** Parameters after the subcommand. */
const ARITY: Record<Sub, number> = {
  LATEST: 3,
  BEFORE: 3,
  AFTER: 3,
  AROUND: 3,
  BETWEEN: 4,
  TARGETS: 3,
};

/** IRCv3 server-time's format (ircv3.net/specs/extensions/server-time), milliseconds optional. */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/** Milliseconds since the epoch for an IRCv3 timestamp, or null when it is not one. */
export function parseTimestamp(text: string): number | null {
  const m = TIMESTAMP.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const ms = Number(((m[7] ?? '') + '000').slice(0, 3));
  const t = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59), ms);
  // Date.UTC rolls 31 February over into March: such a date is not one.
  if (new Date(t).getUTCDate() !== d) return null;
  return Math.min(Math.max(t, 0), MAX_MS);
}

/** `msgid=…` or `timestamp=…`, or null. Only our ids (decimal, 64-bit) can name a message. */
export function parseMsgRef(text: string): MsgRef | null {
  const eq = text.indexOf('=');
  if (eq < 0) return null;
  const type = text.slice(0, eq).toLowerCase();
  const value = text.slice(eq + 1);
  if (type === 'msgid') {
    if (!/^\d{1,19}$/.test(value)) return null;
    const id = BigInt(value);
    return id <= MAX_ID ? { kind: 'msgid', id } : null;
  }
  if (type === 'timestamp') {
    const ms = parseTimestamp(value);
    return ms === null ? null : { kind: 'timestamp', ms };
  }
  return null;
}

/** A limit: a positive decimal integer; above the server's maximum it is the maximum. */
function parseLimit(text: string, max: number): number | null {
  if (!/^\d{1,9}$/.test(text)) return null;
  const n = Number(text);
  return n < 1 ? null : Math.min(n, max);
}

export function parseChathistory(params: readonly string[], maxLimit: number): Parsed {
  const sub = (params[0] ?? '').toUpperCase();
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) {
    // An unknown subcommand is an invalid parameter (as ergo answers it).
    return { ok: false, code: 'INVALID_PARAMS', sub: params[0] || '*', text: 'Unknown subcommand' };
  }
  const s = sub as Sub;
  const args = params.slice(1);
  if (args.length < ARITY[s]) {
    return { ok: false, code: 'NEED_MORE_PARAMS', sub: s, text: 'Missing parameters' };
  }
  const bad = (text: string): Parsed => ({ ok: false, code: 'INVALID_PARAMS', sub: s, text });
  const limit = parseLimit(args[ARITY[s] - 1] as string, maxLimit);
  if (limit === null) return bad('The limit must be a positive whole number');
  const target = args[0] as string;
  if (s === 'TARGETS') {
    const from = parseMsgRef(args[0] as string);
    const to = parseMsgRef(args[1] as string);
    if (from?.kind !== 'timestamp' || to?.kind !== 'timestamp') {
      return bad('TARGETS takes two timestamp= references');
    }
    return { ok: true, request: { sub: s, from: from.ms, to: to.ms, limit } };
  }
  if (target === '' || target === '*') return bad('No target');
  if (s === 'LATEST') {
    if (args[1] === '*') return { ok: true, request: { sub: s, target, since: null, limit } };
    const since = parseMsgRef(args[1] as string);
    if (!since) return bad('Unknown message reference');
    return { ok: true, request: { sub: s, target, since, limit } };
  }
  if (s === 'BETWEEN') {
    const from = parseMsgRef(args[1] as string);
    const to = parseMsgRef(args[2] as string);
    if (!from || !to) return bad('Unknown message reference');
    return { ok: true, request: { sub: s, target, from, to, limit } };
  }
  const ref = parseMsgRef(args[1] as string);
  if (!ref) return bad('Unknown message reference');
  return { ok: true, request: { sub: s, target, ref, limit } };
}

/** The smallest id a message later than `ref` can have, minus one (an exclusive "after"). */
function afterOf(ref: MsgRef): bigint {
  return ref.kind === 'msgid' ? ref.id : BigInt(ref.ms) * MS + (MS - 1n);
}

/** An exclusive "before" bound: nothing at `ref` or later. */
function beforeOf(ref: MsgRef): bigint {
  return ref.kind === 'msgid' ? ref.id : BigInt(ref.ms) * MS;
}

/** Where a reference sits among ids, to put two references in time order. */
function positionOf(ref: MsgRef): bigint {
  return ref.kind === 'msgid' ? ref.id : BigInt(ref.ms) * MS;
}

/**
 * The store queries a request needs (TARGETS aside): one page, or two for AROUND (the
 * older half, then the rest from the reference on, which includes the message it names).
 */
export function idRanges(
  r: Exclude<ChathistoryRequest, { sub: 'TARGETS' }>,
): { range: IdRange; limit: number }[] {
  switch (r.sub) {
    case 'LATEST':
      return [
        {
          range: { keep: 'newest', ...(r.since ? { after: String(afterOf(r.since)) } : {}) },
          limit: r.limit,
        },
      ];
    case 'BEFORE':
      return [{ range: { keep: 'newest', before: String(beforeOf(r.ref)) }, limit: r.limit }];
    case 'AFTER':
      return [{ range: { keep: 'oldest', after: String(afterOf(r.ref)) }, limit: r.limit }];
    case 'BETWEEN': {
      // Counted from the first reference towards the second, whichever way that goes.
      const forward = positionOf(r.from) <= positionOf(r.to);
      const [older, newer] = forward ? [r.from, r.to] : [r.to, r.from];
      return [
        {
          range: {
            keep: forward ? 'oldest' : 'newest',
            after: String(afterOf(older)),
            before: String(beforeOf(newer)),
          },
          limit: r.limit,
        },
      ];
    }
    case 'AROUND': {
      const older = Math.floor(r.limit / 2);
      const at = positionOf(r.ref);
      return [
        { range: { keep: 'newest', before: String(at) }, limit: older },
        { range: { keep: 'oldest', after: String(at - 1n) }, limit: r.limit - older },
      ].filter((q) => q.limit > 0) as { range: IdRange; limit: number }[];
    }
  }
}
