/**
 * Measures how many chat messages per second each store persists through its write queue
 * (`node dist/bench/store-throughput.js [postgres://URL]`). Bounded: 100,000 messages or
 * 30 seconds per store, whichever comes first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryEntry } from '../src/core/events.js';
import type { Store } from '../src/core/ports.js';
import { PostgresStore } from '../src/store/postgres.js';
import { SqliteStore } from '../src/store/sqlite.js';

const COUNT = 100_000;
const LIMIT_MS = 30_000;

async function measure(name: string, store: Store): Promise<void> {
  await store.init();
  const text = 'the quick brown fox jumps over the lazy dog '.repeat(2);
  const start = performance.now();
  const base = Date.now() * 1000;
  let n = 0;
  for (; n < COUNT && performance.now() - start < LIMIT_MS; n++) {
    const entry: HistoryEntry = {
      id: String(base + n),
      ts: Date.now(),
      room: `#bench${n % 10}`,
      from: 'bench',
      mask: 'bench!bench@127.0.0.1',
      text,
      kind: 'say',
    };
    store.appendMessage(entry);
    // Yield now and then like a server does between network reads, so timers can flush.
    if (n % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await store.close(); // flushes everything still queued
  const seconds = (performance.now() - start) / 1000;
  process.stdout.write(
    `${name}: ${n} messages stored in ${seconds.toFixed(2)} s = ${Math.round(n / seconds)} messages/s\n`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'plugboard-store-bench-'));
await measure(
  'sqlite (WAL, synchronous=NORMAL, batch 500 / 50 ms)',
  new SqliteStore(join(dir, 'bench.db')),
);
rmSync(dir, { recursive: true, force: true });
const pgUrl = process.argv[2] ?? process.env.PLUGBOARD_TEST_PG;
if (pgUrl)
  await measure('postgres (multi-row INSERT, batch 500 / 50 ms)', new PostgresStore(pgUrl));
else process.stdout.write('postgres: skipped (pass a postgres:// URL)\n');
