/**
 * The process's file descriptors: how many it may have, how many the chat listeners may
 * use, and noticing when they have run out.
 *
 * What Node and libuv do when accept(2) fails with EMFILE (no descriptor left): libuv
 * keeps one spare descriptor open for this (`uv__emfile_trick` in src/unix/stream.c). It
 * closes the spare, accepts every pending connection and closes each at once (the peer
 * sees its connection accepted and then closed, or reset if it had sent something), and
 * opens the spare again. Node is not told: no 'connection', no 'error'. The listening
 * socket stays registered with epoll, so accepting resumes by itself as soon as a
 * descriptor frees. Only when the spare cannot be reopened does libuv report EMFILE
 * to Node, as an 'error' event on the server. So a server out of descriptors sheds every
 * new connection, /healthz included, and says nothing: hence the watch below, and a
 * default connection limit that leaves a reserve for the HTTP listener and the store.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import type { Logger } from '../core/ports.js';
import { MAX_LINGERING_REFUSALS } from './linger.js';

/**
 * Descriptors kept for everything that is not a client: the store (SQLite's database,
 * WAL and shared-memory files; a PostgreSQL pool), the listeners, the admin socket and
 * its clients, stdio and logs, libuv's own (epoll, eventfd, signals, its spare), DNS.
 */
export const FD_RESERVE_BASE = 64;

/** Without a readable limit (not Linux), the chat connection limit defaults to this. */
export const FALLBACK_MAX_CONNECTIONS = 100_000;

/** The soft RLIMIT_NOFILE of this process, from /proc/self/limits; null if unknown. */
export function openFileLimit(limitsText?: string): number | null {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('Max open files')) continue;
    const soft = line.slice('Max open files'.length).trim().split(/\s+/)[0];
    const n = Number(soft);
    return Number.isSafeInteger(n) && n > 0 ? n : null; // "unlimited" is not a number
  }
  return null;
}

/**
 * Descriptors the chat listeners must leave free: the base reserve, the refusals that
 * may linger at once, and every connection the HTTP listener may hold (so /healthz and
 * /metrics answer while the chat listeners are full).
 */
export function descriptorReserve(httpMaxConnections: number): number {
  return FD_RESERVE_BASE + MAX_LINGERING_REFUSALS + httpMaxConnections;
}

/** The default chat connection limit: the open-file limit minus the reserve (at least 1). */
export function derivedMaxConnections(limit: number | null, reserve: number): number {
  if (limit === null) return FALLBACK_MAX_CONNECTIONS;
  return Math.max(1, limit - reserve);
}

const PROBE_MS = 1000;
const REPEAT_WARNING_MS = 10_000;

/** Counts what the watch saw, for /metrics and the admin `stats`. */
export interface DescriptorStats {
  readonly limit: number | null;
  /** Times the process was found out of descriptors (each episode once). */
  readonly exhaustions: number;
  /** True while it is. */
  readonly exhausted: boolean;
  /** accept(2) failures libuv reported (EMFILE, ENFILE): its spare descriptor was gone. */
  readonly acceptErrors: number;
}

/**
 * Once a second, opens and closes /dev/null: failing with EMFILE or ENFILE means there is
 * no descriptor left, so libuv is closing every new connection as it accepts it. Logs
 * when that starts (at most every 10 s while it lasts) and when it ends, and counts it.
 * Two system calls a second; the only way to see what libuv does not report.
 */
export class DescriptorWatch implements DescriptorStats {
  exhaustions = 0;
  exhausted = false;
  acceptErrors = 0;
  private since = 0;
  private warnedAt = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly limit: number | null,
    private readonly log: Logger,
    /** What to add to the log lines (connection counts). */
    private readonly context: () => Record<string, unknown> = () => ({}),
    private readonly now: () => number = Date.now,
  ) {}

  start(intervalMs = PROBE_MS): void {
    this.timer = setInterval(() => this.probe(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** True when a descriptor could be had right now. */
  probe(): boolean {
    let fd = -1;
    try {
      fd = openSync('/dev/null', 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EMFILE' || code === 'ENFILE') {
        this.out(code);
        return false;
      }
      return true; // some other failure says nothing about descriptors
    } finally {
      if (fd >= 0) closeSync(fd);
    }
    if (this.exhausted) {
      this.exhausted = false;
      const seconds = Math.round((this.now() - this.since) / 1000);
      this.log.warn(
        { seconds, limit: this.limit, ...this.context() },
        'file descriptors available again: accepting connections',
      );
    }
    return true;
  }

  /** A listener's 'error' event: true if it was descriptor exhaustion (now counted). */
  acceptError(err: NodeJS.ErrnoException, listener: string): boolean {
    if (err.code !== 'EMFILE' && err.code !== 'ENFILE') return false;
    this.acceptErrors++;
    this.out(err.code, listener);
    return true;
  }

  private out(code: string, listener?: string): void {
    const now = this.now();
    if (!this.exhausted) {
      this.exhausted = true;
      this.exhaustions++;
      this.since = now;
      this.warnedAt = 0;
    }
    if (now - this.warnedAt < REPEAT_WARNING_MS) return;
    this.warnedAt = now;
    this.log.error(
      {
        code,
        limit: this.limit,
        seconds: Math.round((now - this.since) / 1000),
        ...(listener ? { listener } : {}),
        ...this.context(),
      },
      'out of file descriptors: new connections are closed as soon as they are accepted ' +
        '(raise the open-file limit, or lower --max-connections)',
    );
  }
}
