/**
 * What SQLite and PostgreSQL share between the hub and their writer: the write queue
 * (messages and the small fire-and-forget writes, in one order), health as the hub and
 * /readyz see it, the log lines of a failure episode, and the figures for metrics.
 */
import type { EventEntry, HistoryEntry } from '../core/events.js';
import { fold } from '../core/names.js';
import type { HistoryQuery, Logger, StoreStats } from '../core/ports.js';
import { compareIds, pageOf } from './history-page.js';
import { failureCode, failureReason, isContentFailure } from './write-failure.js';
import { WriteQueue, type WriteQueueOptions } from './write-queue.js';

/** A small write other than a message (a room, a ban, a setting), in the backend's SQL. */
export interface StatementWrite {
  readonly sql: string;
  readonly params: readonly unknown[];
  /**
   * Several statements that must commit together (a room rename): one item of the queue,
   * so one chunk, one transaction. `sql` and `params` are then the first of them.
   */
  readonly all?: readonly { readonly sql: string; readonly params: readonly unknown[] }[];
}

/** A kept room event (event playback), written in its own table (store/event-data.ts). */
export interface EventWrite {
  readonly event: EventEntry;
}

export type PendingWrite = HistoryEntry | StatementWrite | EventWrite;

export function isStatement(w: PendingWrite): w is StatementWrite {
  return (w as StatementWrite).sql !== undefined;
}

export function isEventWrite(w: PendingWrite): w is EventWrite {
  return (w as EventWrite).event !== undefined;
}

/** A message: neither a small write nor a kept event. */
export function isMessage(w: PendingWrite): w is HistoryEntry {
  return !isStatement(w) && !isEventWrite(w);
}

export type HealthListener = (healthy: boolean, reason: string) => void;

/** How many duplicate ids one log line lists (the count is always exact). */
const LOGGED_IDS = 20;

export class WritePath {
  readonly queue: WriteQueue<PendingWrite>;
  /** Messages not written because their id was already stored. */
  duplicates = 0;
  /** Direct (awaited) writes that failed, e.g. creating an account. */
  private directFailures = 0;
  private readonly listeners: HealthListener[] = [];
  /** A fault that no write clears (a damaged file found while reading). */
  private fault: string | null = null;

  constructor(
    private readonly store: string,
    writer: (batch: PendingWrite[]) => void | Promise<void>,
    options: Partial<WriteQueueOptions>,
    private readonly log: Logger,
  ) {
    this.queue = new WriteQueue<PendingWrite>(writer, options, {
      onFailing: (err) => {
        this.log.error(
          {
            err,
            store,
            code: failureCode(err),
            backlog: this.queue.size,
            retryFirstMs: this.queue.options.retryBaseMs,
          },
          'store writes are failing: new messages are refused; queued ones are kept and retried with backoff',
        );
        this.notify(false, failureReason(err));
      },
      onRecovered: (attempts, sinceMs) => {
        this.log.info(
          { store, failedAttempts: attempts, downMs: sinceMs, backlog: this.queue.size },
          'store writes recovered: queued messages are being written, new ones accepted',
        );
        if (this.fault === null) this.notify(true, '');
      },
      onAbandoned: (count, err) => {
        this.log.error(
          { err, store, count },
          'store closed while writes were failing: these queued writes are lost',
        );
      },
      isPermanent: isContentFailure,
      onRejected: (item, err) => {
        // Its id (or statement), not its text: the log is no place for people's messages.
        const what = isStatement(item)
          ? { sql: item.sql }
          : isEventWrite(item)
            ? { id: item.event.id, room: item.event.room, event: item.event.detail.kind }
            : { id: item.id, room: item.room };
        this.log.error(
          { err, store, code: failureCode(err), ...what },
          'a write the database refuses for its content was left out (retrying it would block every later write)',
        );
      },
    });
  }

  appendMessage(entry: HistoryEntry): Promise<void> {
    return this.queue.push(entry);
  }

  /**
   * Queues a kept event behind everything queued before it. Fire-and-forget like the small
   * writes: nothing waits for it, and a store that cannot write refuses messages, not this.
   */
  appendEvent(event: EventEntry): void {
    void this.queue.push({ event });
  }

  /** Queues a small write behind everything queued before it. */
  statement(sql: string, params: readonly unknown[]): void {
    void this.queue.push({ sql, params });
  }

  /** Queues statements that commit together (StatementWrite.all), behind everything before. */
  statements(all: readonly { sql: string; params: readonly unknown[] }[]): void {
    const first = all[0];
    if (first) void this.queue.push({ sql: first.sql, params: first.params, all });
  }

  healthy(): boolean {
    return !this.queue.failing && this.fault === null;
  }

  writable(): boolean {
    return this.healthy() && !this.queue.full;
  }

  stats(): StoreStats {
    return {
      written: this.queue.written,
      commits: this.queue.commits,
      failed: this.queue.failed + this.directFailures,
      duplicates: this.duplicates,
      backlog: this.queue.size,
    };
  }

  onHealthChange(listener: HealthListener): void {
    this.listeners.push(listener);
  }

  /** The writer found ids already stored: not written again, but never silently. */
  duplicatesFound(ids: string[]): void {
    if (ids.length === 0) return;
    this.duplicates += ids.length;
    this.log.warn(
      { store: this.store, count: ids.length, ids: ids.slice(0, LOGGED_IDS) },
      'messages with an id already stored were not written',
    );
  }

  /** An awaited write failed (the caller reports it to the person). */
  directFailed(err: unknown, what: string): void {
    this.directFailures++;
    this.log.error({ err, store: this.store, code: failureCode(err), what }, 'store write failed');
  }

  /** Marks the store unhealthy until restart (e.g. pages found damaged by a read). */
  faulted(err: unknown, message: string): void {
    if (this.fault !== null) return;
    this.fault = failureReason(err);
    this.log.error({ err, store: this.store, code: failureCode(err) }, message);
    this.notify(false, this.fault);
  }

  /**
   * History as the people saw it: what is committed plus what is still queued (while
   * writes fail, acknowledged messages wait here), the page `query` asks for.
   */
  withPending(committed: HistoryEntry[], query: HistoryQuery): HistoryEntry[] {
    if (this.queue.size === 0) return committed;
    const key = fold(query.room);
    const seen = new Set(committed.map((e) => e.id));
    const waiting: HistoryEntry[] = [];
    for (const w of this.queue.pending()) {
      if (!isMessage(w) || seen.has(w.id) || fold(w.room) !== key) continue;
      waiting.push(w);
    }
    if (waiting.length === 0) return committed;
    // The committed page plus what waits holds every entry of the true page: page again.
    const all = committed.concat(waiting);
    all.sort(byId);
    return pageOf(all, query);
  }

  /** withPending for kept events: the committed page plus the queued events of its room. */
  withPendingEvents(committed: EventEntry[], query: HistoryQuery): EventEntry[] {
    if (this.queue.size === 0) return committed;
    const key = fold(query.room);
    const seen = new Set(committed.map((e) => e.id));
    const waiting: EventEntry[] = [];
    for (const w of this.queue.pending()) {
      if (!isEventWrite(w) || seen.has(w.event.id) || fold(w.event.room) !== key) continue;
      waiting.push(w.event);
    }
    if (waiting.length === 0) return committed;
    const all = committed.concat(waiting);
    all.sort(byId);
    return pageOf(all, query);
  }

  /**
   * Resume's view of what still waits (writes failing): the queued messages of `room` with
   * an id above `after` that `committed` lacks, merged in order, at most `limit` (the first).
   */
  withPendingAfter(
    committed: HistoryEntry[],
    room: string,
    after: string,
    limit: number,
  ): HistoryEntry[] {
    const waiting = this.pendingAfter(committed, room, after);
    if (waiting.length === 0) return committed;
    return committed.concat(waiting).sort(byId).slice(0, limit);
  }

  /** How many queued messages of `room` above `after` are not among `committed` ids. */
  countPendingAfter(room: string, after: string): number {
    return this.pendingAfter([], room, after).length;
  }

  private pendingAfter(committed: HistoryEntry[], room: string, after: string): HistoryEntry[] {
    if (this.queue.size === 0) return [];
    const key = fold(room);
    const floor = BigInt(after);
    const seen = new Set(committed.map((e) => e.id));
    const out: HistoryEntry[] = [];
    for (const w of this.queue.pending()) {
      if (!isMessage(w) || seen.has(w.id) || fold(w.room) !== key) continue;
      if (BigInt(w.id) > floor) out.push(w);
    }
    return out;
  }

  /** Listeners hear of a change in a later turn, never inside the write (or push) that caused it. */
  private notify(healthy: boolean, reason: string): void {
    for (const l of this.listeners) setImmediate(() => l(healthy, reason));
  }
}

function byId(a: { id: string }, b: { id: string }): number {
  return compareIds(a.id, b.id);
}
