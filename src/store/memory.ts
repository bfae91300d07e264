/**
 * In-memory store: a bounded ring of recent messages per room. For tests and
 * `--store memory`; forgets everything on restart.
 */
import type { EventEntry, HistoryEntry } from '../core/events.js';
import { fold } from '../core/names.js';
import type {
  AccountRecord,
  BanRecord,
  Conversation,
  ConversationsQuery,
  HistoryQuery,
  ReadMarker,
  Logger,
  RenameRecord,
  RoomRecord,
  SearchPage,
  SearchQuery,
  Store,
  StoreStats,
} from '../core/ports.js';
import { silentLogger } from '../core/ports.js';
import { textMatches } from '../core/search-terms.js';
import { cutPage, scopeOf, type Match } from './search-page.js';
import { compareIds, isConversationOf, pageOf } from './history-page.js';

/** Written the moment it is appended: one settled promise serves every message. */
const COMMITTED: Promise<void> = Promise.resolve();

export class MemoryStore implements Store {
  readonly name = 'memory';
  private readonly rooms = new Map<string, HistoryEntry[]>();
  /** Ids in the rings, to report a duplicate as the disk stores do. */
  private readonly ids = new Set<string>();
  private written = 0;
  private duplicates = 0;

  constructor(
    private readonly perRoom: number,
    private readonly log: Logger = silentLogger,
  ) {}

  async init(): Promise<void> {}

  appendMessage(entry: HistoryEntry): Promise<void> {
    if (this.ids.has(entry.id)) {
      this.duplicates++;
      this.log.warn(
        { store: 'memory', count: 1, ids: [entry.id] },
        'messages with an id already stored were not written',
      );
      return COMMITTED;
    }
    const key = fold(entry.room);
    let ring = this.rooms.get(key);
    if (!ring) {
      ring = [];
      this.rooms.set(key, ring);
    }
    ring.push(entry);
    this.ids.add(entry.id);
    this.written++;
    // Trim in chunks so appends stay O(1) amortised.
    if (ring.length > this.perRoom * 2) {
      for (const gone of ring.splice(0, ring.length - this.perRoom)) this.ids.delete(gone.id);
    }
    return COMMITTED;
  }

  /** Kept events (event playback) per room, a ring of the same size as the messages'. */
  private readonly eventRings = new Map<string, EventEntry[]>();

  appendEvent(entry: EventEntry): void {
    const key = fold(entry.room);
    let ring = this.eventRings.get(key);
    if (!ring) {
      ring = [];
      this.eventRings.set(key, ring);
    }
    // One event per room and id, as the disk stores keep them.
    if (ring.some((e) => e.id === entry.id)) return;
    ring.push(entry);
    if (ring.length > this.perRoom * 2) ring.splice(0, ring.length - this.perRoom);
  }

  async events(query: HistoryQuery): Promise<EventEntry[]> {
    const ring = this.eventRings.get(fold(query.room)) ?? [];
    return pageOf(ring.slice(Math.max(ring.length - this.perRoom, 0)), query);
  }

  writable(): boolean {
    return true;
  }

  stats(): StoreStats {
    return {
      written: this.written,
      commits: this.written,
      failed: 0,
      duplicates: this.duplicates,
      backlog: 0,
    };
  }

  /** Memory never fails to write: health never changes, so the listener is never called. */
  onHealthChange(_listener: (healthy: boolean, reason: string) => void): void {}

  async history(query: HistoryQuery): Promise<HistoryEntry[]> {
    const ring = this.rooms.get(fold(query.room)) ?? [];
    return pageOf(ring.slice(Math.max(ring.length - this.perRoom, 0)), query);
  }

  async conversations(query: ConversationsQuery): Promise<Conversation[]> {
    const wanted = new Set(query.rooms.map(fold));
    const account = query.account === undefined ? null : fold(query.account);
    const found: Conversation[] = [];
    for (const [key, ring] of this.rooms) {
      const last = ring[ring.length - 1];
      if (!last) continue;
      if (!wanted.has(key) && !(account !== null && isConversationOf(key, account))) continue;
      if (last.ts > query.after && last.ts < query.before) {
        found.push({ room: last.room, id: last.id, ts: last.ts });
      }
    }
    found.sort((a, b) => a.ts - b.ts || compareIds(a.id, b.id));
    return found.slice(0, query.limit);
  }

  private readonly markers = new Map<string, Map<string, ReadMarker>>();

  async readMarkers(account: string): Promise<ReadMarker[]> {
    return [...(this.markers.get(fold(account))?.values() ?? [])].map((m) => ({ ...m }));
  }

  saveReadMarker(account: string, marker: ReadMarker): void {
    let mine = this.markers.get(fold(account));
    if (!mine) {
      mine = new Map();
      this.markers.set(fold(account), mine);
    }
    const key = fold(marker.target);
    const held = mine.get(key);
    if (!held || compareIds(marker.id, held.id) > 0) mine.set(key, { ...marker });
  }

  /**
   * A word match (search-terms.ts `textMatches`) over the rings the search may see: no
   * index, but at most `historyRing` entries per room, and only the person's rooms.
   */
  async search(q: SearchQuery): Promise<SearchPage> {
    const visible = scopeOf(q);
    const before = q.before === undefined ? null : BigInt(q.before);
    const found: HistoryEntry[] = [];
    for (const [key, ring] of this.rooms) {
      if (!visible(key)) continue;
      for (let i = Math.max(0, ring.length - this.perRoom); i < ring.length; i++) {
        const e = ring[i] as HistoryEntry;
        if (before !== null && BigInt(e.id) >= before) continue;
        if (textMatches(e.text, q.terms)) found.push(e);
      }
    }
    found.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? 1 : -1));
    const window = found.slice(0, q.scan);
    const byId = new Map(window.map((e) => [e.id, e]));
    const { ids, next } = cutPage(
      window.map((e): Match => ({ id: e.id, roomKey: fold(e.room) })),
      q,
    );
    return { entries: ids.map((id) => byId.get(id) as HistoryEntry), next };
  }

  async messagesAfter(room: string, after: string, limit: number): Promise<HistoryEntry[]> {
    const ring = this.kept(room);
    const floor = BigInt(after);
    let start = ring.length;
    while (start > 0 && BigInt((ring[start - 1] as HistoryEntry).id) > floor) start--;
    return ring.slice(start, start + limit);
  }

  async countAfter(room: string, after: string): Promise<number> {
    const ring = this.kept(room);
    const floor = BigInt(after);
    let n = 0;
    for (let i = ring.length - 1; i >= 0 && BigInt((ring[i] as HistoryEntry).id) > floor; i--) n++;
    return n;
  }

  /** What the ring keeps of a room: at most `perRoom`, the newest (it trims in chunks). */
  private kept(room: string): HistoryEntry[] {
    const ring = this.rooms.get(fold(room)) ?? [];
    return ring.length > this.perRoom ? ring.slice(ring.length - this.perRoom) : ring;
  }

  private readonly accounts = new Map<string, AccountRecord>();

  async getAccount(name: string): Promise<AccountRecord | null> {
    const a = this.accounts.get(fold(name));
    return a ? { ...a } : null;
  }

  async createAccount(account: AccountRecord): Promise<boolean> {
    const key = fold(account.name);
    if (this.accounts.has(key)) return false;
    this.accounts.set(key, { ...account });
    return true;
  }

  touchAccount(name: string, ts: number): void {
    const a = this.accounts.get(fold(name));
    if (a) a.lastSeen = ts;
  }

  private readonly roomRecords = new Map<string, RoomRecord>();
  private readonly bans = new Map<string, BanRecord>();
  private readonly settings = new Map<string, string>();

  saveRoom(room: RoomRecord): void {
    this.roomRecords.set(fold(room.name), { ...room });
  }

  async loadRooms(): Promise<RoomRecord[]> {
    return [...this.roomRecords.values()].map((r) => ({ ...r }));
  }

  saveBan(ban: BanRecord): void {
    this.bans.set(banKey(ban.room, ban.mask, ban.kind), { ...ban });
  }

  deleteBan(room: string, mask: string, kind: 'ban' | 'mute'): void {
    this.bans.delete(banKey(room, mask, kind));
  }

  async loadBans(): Promise<BanRecord[]> {
    const now = Date.now();
    return [...this.bans.values()]
      .filter((b) => b.expiresAt === null || b.expiresAt > now)
      .map((b) => ({ ...b }));
  }

  renameRoom(from: string, to: string): void {
    const a = fold(from);
    const b = fold(to);
    const ring = this.rooms.get(a);
    if (ring) {
      this.rooms.delete(a);
      // Entries are shared with earlier history replies: new objects, not edits.
      this.rooms.set(
        b,
        ring.map((e) => ({ ...e, room: to })),
      );
    }
    const events = this.eventRings.get(a);
    if (events) {
      this.eventRings.delete(a);
      this.eventRings.set(
        b,
        events.map((e) => ({ ...e, room: to })),
      );
    }
    const record = this.roomRecords.get(a);
    if (record) {
      this.roomRecords.delete(a);
      this.roomRecords.set(b, { ...record, name: to });
    }
    for (const [key, ban] of [...this.bans]) {
      if (fold(ban.room) !== a) continue;
      this.bans.delete(key);
      this.bans.set(banKey(to, ban.mask, ban.kind), { ...ban, room: to });
    }
    for (const mine of this.markers.values()) {
      const m = mine.get(a);
      if (!m) continue;
      mine.delete(a);
      mine.set(b, { ...m, target: to });
    }
  }

  /** Renames by folded old name (saveRename). */
  private readonly renameRecords = new Map<string, RenameRecord>();

  saveRename(r: RenameRecord, keep: number): void {
    const was = this.renameRecords.get(r.from);
    if (was && was.at > r.at) return;
    this.renameRecords.set(r.from, { ...r });
    if (this.renameRecords.size <= keep) return;
    // As the SQL stores prune: older than the keep-th newest.
    const cutoff = [...this.renameRecords.values()].map((x) => x.at).sort((a, b) => b - a)[
      Math.max(0, keep - 1)
    ] as number;
    for (const [from, x] of this.renameRecords) if (x.at < cutoff) this.renameRecords.delete(from);
  }

  async renames(limit: number): Promise<RenameRecord[]> {
    return [...this.renameRecords.values()]
      .sort((a, b) => b.at - a.at || (a.from < b.from ? 1 : -1))
      .slice(0, Math.max(0, limit))
      .reverse()
      .map((r) => ({ ...r }));
  }

  async renamedFrom(from: string): Promise<RenameRecord | null> {
    const r = this.renameRecords.get(from);
    return r ? { ...r } : null;
  }

  async getSetting(key: string): Promise<string | null> {
    return this.settings.get(key) ?? null;
  }

  setSetting(key: string, value: string): void {
    this.settings.set(key, value);
  }

  async pruneSettings(prefix: string, stale: (value: string) => boolean): Promise<number> {
    let removed = 0;
    for (const [key, value] of this.settings) {
      if (key.startsWith(prefix) && stale(value) && this.settings.delete(key)) removed++;
    }
    return removed;
  }

  healthy(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}

function banKey(room: string, mask: string, kind: string): string {
  return `${fold(room)}\u0000${fold(mask)}\u0000${kind}`;
}
