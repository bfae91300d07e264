/**
 * What a primary and its worker processes say to each other over the cluster's IPC
 * channel (JSON). Every message carries `pb`, its kind; Node's own cluster messages never
 * do, so the two never mix.
 */
import type { StatsSnapshot } from '../admin/stats.js';

export type Addresses = Record<string, { host: string; port: number }>;

/** Primary → worker. */
export type ToWorker =
  /** Tell your clients why, close, exit 0. */
  | { pb: 'shutdown'; reason: string }
  /** Run this admin command line; answer with `reply`. */
  | { pb: 'admin'; id: number; line: string }
  /** Send your figures; answer with `stats`. */
  | { pb: 'stats'; id: number };

/** Worker → primary. */
export type ToPrimary =
  /** Every listener is up (the addresses it got); the node id it has on the bus. */
  | { pb: 'ready'; addresses: Addresses; nodeId: string }
  /** Could not start; the process exits next. */
  | { pb: 'failed'; message: string }
  | { pb: 'reply'; id: number; lines: string[] }
  | { pb: 'stats'; id: number; stats: StatsSnapshot }
  /** Something in the worker asked for the whole host to stop. */
  | { pb: 'shutdown-request'; reason: string };

export function isOurs<T extends { pb: string }>(m: unknown): m is T {
  return typeof m === 'object' && m !== null && typeof (m as { pb?: unknown }).pb === 'string';
}

/** The environment variable that gives a worker its slot (1..N, the same across restarts). */
export const SLOT_ENV = 'PLUGBOARD_WORKER_SLOT';
