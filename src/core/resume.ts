/**
 * Coming back without missing anything: resume tokens (resume-token.ts), the replay of
 * what a room said after a given message id, the positions a session reached (kept per
 * name, for protocols whose clients cannot remember them: telnet), and names held for a
 * while after a connection dropped or the server stopped (Presence.hold).
 *
 * A replay runs through the access policy like `history` (access.ts: members only), and
 * ends where the session's live messages begin: the room's last stored id when its join
 * was applied (Session.joinMarks). So a client that resumes gets each message once,
 * either replayed or live, never both and never neither.
 */
import { requireReadable } from './access.js';
import type { Core } from './context.js';
import type { HistoryEntry } from './events.js';
import { checkRoom, fold } from './names.js';
import type { HoldProof } from './ports.js';
import { newResumeSecret, ResumeTokens, type ResumeClaims } from './resume-token.js';
import type { Session } from './session.js';
import { mergeById, tailBeforeJoin } from './replay-tail.js';

/** Where the store keeps the secret tokens are signed with (shared by every node). */
export const SECRET_SETTING = 'resume-secret';
/** A session's positions when it left, per name: `seen:<folded name>`. */
const SEEN_PREFIX = 'seen:';
/** Re-read the secret at most this often when a token fails (two nodes raced to make it). */
const REREAD_MS = 10_000;

export interface Replay {
  /** The room as spelled. */
  room: string;
  /** The position replayed from. */
  after: string;
  /** Oldest first: all that was missed, or the newest `limit` of it. */
  messages: HistoryEntry[];
  /** How many messages came after `after` until the join (more than shown: a gap). */
  missed: number;
  /**
   * Nothing at or before `after` is kept any more (retention removed it): more may have
   * been missed than the store still has.
   */
  truncated: boolean;
}

/** Where a session stopped reading, per room, when it left. */
export interface SeenPositions {
  /** When it left (epoch ms). */
  at: number;
  /** Room as spelled → last message id. */
  rooms: Record<string, string>;
}

/** Quitting on purpose gives a name up at once; anything else holds it for a while. */
export function isQuit(reason: string): boolean {
  return /^quit(?::|$)/i.test(reason);
}

/** Shared proofs by address: most peers share a few addresses (see addressProof). */
const addressProofs = new Map<string, HoldProof>();

/**
 * The proof a session shows for a held name by its address alone (telnet, IRC, a JSON
 * client without a token): one frozen object per address, shared by every session from
 * it, rather than one per connection. Bounded: past 65,536 addresses, new ones get their own.
 */
export function addressProof(address: string): HoldProof {
  let proof = addressProofs.get(address);
  if (proof === undefined) {
    proof = Object.freeze({ address });
    if (addressProofs.size < 65_536) addressProofs.set(address, proof);
  }
  return proof;
}

export class Resume {
  private tokens: ResumeTokens | null = null;
  private secret = '';
  private rereadAt = 0;

  constructor(private readonly core: Core) {}

  /** Loads (or makes and saves) the signing secret. */
  async start(): Promise<void> {
    const { store } = this.core;
    let secret = await store.getSetting(SECRET_SETTING);
    if (secret === null) {
      secret = newResumeSecret();
      store.setSetting(SECRET_SETTING, secret);
    }
    this.use(secret);
  }

  private use(secret: string): void {
    this.secret = secret;
    this.tokens = new ResumeTokens(secret);
  }

  /** A token for `s` now: its name, its session, the last message id of each of its rooms. */
  token(s: Session): string | null {
    if (!this.tokens || !s.registered) return null;
    const rooms: Record<string, string> = {};
    for (const room of s.rooms) if (room.lastId !== null) rooms[room.name] = room.lastId;
    return this.tokens.issue({
      name: s.name,
      session: s.id,
      issuedAt: this.core.clock.now(),
      rooms,
    });
  }

  /** The claims of a token this chat made, or null. */
  async verify(token: string): Promise<ResumeClaims | null> {
    const claims = this.tokens?.verify(token) ?? null;
    if (claims !== null) return claims;
    // Two nodes starting on an empty store may each have made a secret; one was kept.
    const now = this.core.clock.now();
    if (now < this.rereadAt) return null;
    this.rereadAt = now + REREAD_MS;
    const stored = await this.core.store.getSetting(SECRET_SETTING).catch(() => null);
    if (stored === null || stored === this.secret) return null;
    this.use(stored);
    return this.tokens?.verify(token) ?? null;
  }

  /** A session's proof for a held name: its verified token's session, or its address. */
  static proof(session?: string, address?: string): HoldProof {
    return { ...(session ? { session } : {}), ...(address ? { address } : {}) };
  }

  /**
   * What `room` said after `after`, up to where `s`'s live messages began: at most `limit`
   * (the newest, with `missed` saying how many there were in all).
   */
  async replay(s: Session, roomName: string, after: string, limit: number): Promise<Replay> {
    const { core } = this;
    checkRoom(roomName, core.options.roomNameLength);
    const room = requireReadable(s, core.rooms.get(roomName), roomName);
    const { messages, missed } = await this.gap(s, room.name, room.key, after, limit);
    const store = core.store;
    let truncated = false;
    if (missed > 0 && after !== '0') {
      const kept = await store.history({
        room: room.name,
        limit: 1,
        before: (BigInt(after) + 1n).toString(),
      });
      truncated = kept.length === 0;
    }
    return { room: room.name, after, messages, missed, truncated };
  }

  /**
   * The messages after `after` up to `s`'s join (the newest `limit`) and how many there
   * were: the store's, up to the join mark, merged with what the room's stream had before
   * the join (replay-tail.ts: another node's newest may not be stored yet).
   */
  private async gap(
    s: Session,
    room: string,
    key: string,
    after: string,
    limit: number,
  ): Promise<{ messages: HistoryEntry[]; missed: number }> {
    const { store, bus } = this.core;
    const upTo = s.joinMarks?.get(key) ?? null;
    const inGap = (e: HistoryEntry) => upTo === null || BigInt(e.id) <= BigInt(upTo);
    const tail = await tailBeforeJoin(bus, s, key, after, limit + 1);
    // One more than the limit tells a gap that fits from one that does not.
    const rows = (await store.messagesAfter(room, after, limit + 1)).filter(inGap);
    if (rows.length <= limit) {
      // The store's whole gap: what the stream adds to it is exactly what it lacks.
      const all = mergeById(rows, tail);
      return { messages: all.slice(Math.max(0, all.length - limit)), missed: all.length };
    }
    const beyond = upTo === null ? 0 : await store.countAfter(room, upTo);
    const stored = (await store.countAfter(room, after)) - beyond;
    const page = await store.history({
      room,
      limit,
      ...(upTo !== null ? { before: (BigInt(upTo) + 1n).toString() } : {}),
    });
    // The page is the store's newest up to the mark, without holes: a stream message from
    // its oldest on that it lacks is not stored (yet). Older ones are taken as stored.
    const from = page.length > 0 ? BigInt((page[0] as HistoryEntry).id) : 0n;
    const onPage = new Set(page.map((e) => e.id));
    const unstored = tail.filter((e) => BigInt(e.id) >= from && !onPage.has(e.id));
    const all = mergeById(page, unstored);
    return {
      messages: all.slice(Math.max(0, all.length - limit)),
      missed: stored + unstored.length,
    };
  }

  /**
   * Where `s`'s live messages in `room` begin (its join mark + 1), as a `before` for the
   * history shown on joining: what is live is not shown twice. Undefined when unknown.
   */
  liveFrom(s: Session, roomName: string): string | undefined {
    const room = this.core.rooms.get(roomName);
    const mark = room ? s.joinMarks?.get(room.key) : undefined;
    return mark === undefined ? undefined : (BigInt(mark) + 1n).toString();
  }

  /**
   * The newest `limit` messages of `room` before `s`'s live ones began: shown on joining.
   * The store's, and in a cluster what the room's stream had before the join that the
   * store may not have yet (replay-tail.ts).
   */
  async beforeJoin(s: Session, roomName: string, limit: number): Promise<HistoryEntry[]> {
    const { core } = this;
    checkRoom(roomName, core.options.roomNameLength);
    const room = requireReadable(s, core.rooms.get(roomName), roomName);
    const before = this.liveFrom(s, room.name);
    const stored = await core.store.history({
      room: room.name,
      limit,
      ...(before ? { before } : {}),
    });
    const tail = await tailBeforeJoin(core.bus, s, room.key, '0', limit);
    const all = mergeById(stored, tail);
    return all.slice(Math.max(0, all.length - limit));
  }

  /** How many messages `room` said after `after` until `s` joined it (no access check). */
  async missedSince(s: Session, roomName: string, after: string): Promise<number> {
    const room = this.core.rooms.get(roomName);
    if (!room) return 0;
    const upTo = s.joinMarks?.get(room.key) ?? null;
    if (s.joinOffsets?.get(room.key) !== undefined) {
      // In a cluster the stream may hold some the store does not yet: count as a replay does.
      return (await this.gap(s, room.name, room.key, after, this.core.options.resumeLimit)).missed;
    }
    const total = await this.core.store.countAfter(room.name, after);
    if (upTo === null || BigInt(upTo) <= BigInt(after)) return upTo === null ? total : 0;
    return total - (await this.core.store.countAfter(room.name, upTo));
  }

  // ---- positions per name (telnet users cannot say what they saw) ---------------------

  /** Writes where `s` stopped reading in each of its rooms (it is leaving). */
  saveSeen(s: Session): void {
    if (!s.registered || !s.name) return;
    const rooms: Record<string, string> = {};
    let any = false;
    for (const room of s.rooms) {
      if (room.lastId === null) continue;
      rooms[room.name] = room.lastId;
      any = true;
    }
    if (!any) return;
    const seen: SeenPositions = { at: this.core.clock.now(), rooms };
    this.core.store.setSetting(SEEN_PREFIX + fold(s.name), JSON.stringify(seen));
  }

  /**
   * Forgets positions older than `--seen-days` (or `--retention-days`, when shorter: what
   * such a position points at is no longer kept). Run with each retention pass.
   */
  async pruneSeen(): Promise<number> {
    const { store, options, clock } = this.core;
    if (!store.pruneSettings) return 0;
    const history = options.retentionMaxAgeMs;
    const keep = history > 0 ? Math.min(history, options.seenKeepMs) : options.seenKeepMs;
    const oldest = clock.now() - keep;
    return store.pruneSettings(SEEN_PREFIX, (raw) => {
      const at = parseSeen(raw)?.at;
      // A record this server cannot read is no use to anyone either.
      return at === undefined || at < oldest;
    });
  }

  /** Where the last session called `name` stopped reading, or null. */
  async loadSeen(name: string): Promise<SeenPositions | null> {
    const raw = await this.core.store.getSetting(SEEN_PREFIX + fold(name)).catch(() => null);
    const seen = raw === null ? null : parseSeen(raw);
    // Rooms renamed since: the positions are in them under their new names (rename.ts).
    return seen === null
      ? null
      : { at: seen.at, rooms: await this.core.renames.follow(seen.rooms) };
  }
}

/** A stored seen record, or null when it is not one. */
function parseSeen(raw: string): SeenPositions | null {
  try {
    const v = JSON.parse(raw) as SeenPositions;
    if (typeof v.at !== 'number' || typeof v.rooms !== 'object' || v.rooms === null) return null;
    return v;
  } catch {
    return null;
  }
}

/** The position a seen record has for `room` (any spelling), or undefined. */
export function positionIn(seen: SeenPositions | null, room: string): string | undefined {
  if (!seen) return undefined;
  const key = fold(room);
  for (const [name, id] of Object.entries(seen.rooms)) if (fold(name) === key) return id;
  return undefined;
}
