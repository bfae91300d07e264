/**
 * Chooses the store from `--store`: 'sqlite' (default, a file in the data directory),
 * 'memory', or a postgres:// URL.
 */
import { join } from 'node:path';
import type { Logger, Store } from '../core/ports.js';
import { silentLogger } from '../core/ports.js';
import { MemoryStore } from './memory.js';
import { SqliteStore } from './sqlite.js';
import type { WriteQueueOptions } from './write-queue.js';

export async function createStore(
  spec: string,
  dataDir: string,
  historyRing: number,
  log: Logger = silentLogger,
  queue: Partial<WriteQueueOptions> = {},
): Promise<Store> {
  if (spec === 'memory') return new MemoryStore(historyRing, log);
  if (spec === 'sqlite') return new SqliteStore(join(dataDir, 'plugboard.db'), { log, queue });
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const { PostgresStore } = await import('./postgres.js');
    return new PostgresStore(spec, { log, queue });
  }
  throw new Error(`--store must be 'sqlite', 'memory' or a postgres:// URL (got "${spec}")`);
}
