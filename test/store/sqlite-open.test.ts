/**
 * A file that is not a database, or one with damaged pages, is refused at start with a
 * message that names the file and says what to do, and `plugboard serve` exits 1 with it
 * (no stack trace). The damage is real: random bytes written over pages of a real database.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.js';
import { CLI } from '../helpers/process.js';
import { OTHER_LISTENERS_OFF } from '../helpers/server.js';
import { recordingLogger } from './contract.js';

const PAGE = 4096; // SQLite's default page size, which the store keeps

/** A real database with some history in it, closed (its WAL checkpointed into the file). */
async function databaseWithHistory(): Promise<{ dir: string; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-damaged-'));
  const file = join(dir, 'plugboard.db');
  const store = new SqliteStore(file);
  await store.init();
  const base = Date.now() * 1000;
  for (let i = 0; i < 3000; i++) {
    void store.appendMessage({
      id: String(base + i),
      ts: Date.now(),
      room: `#room${i % 7}`,
      from: 'alice',
      mask: 'alice!alice@127.0.0.1',
      text: `message ${i} ${'lorem ipsum '.repeat(10)}`,
      kind: 'say',
    });
  }
  await store.close();
  return { dir, file };
}

/** Writes random bytes over pages [from, to) (1-based page numbers, as SQLite counts). */
function damagePages(file: string, from: number, to: number): void {
  const fd = openSync(file, 'r+');
  try {
    for (let page = from; page < to; page++)
      writeSync(fd, randomBytes(PAGE), 0, PAGE, (page - 1) * PAGE);
  } finally {
    closeSync(fd);
  }
}

test('a file that is not a database is refused, naming it and what to do', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-notadb-'));
  const file = join(dir, 'plugboard.db');
  writeFileSync(file, randomBytes(64 * 1024));
  const store = new SqliteStore(file);
  const err = await store.init().then(
    () => null,
    (e: unknown) => e as Error,
  );
  expect(err?.message).toContain(`${file} is not a usable SQLite database (SQLITE_NOTADB`);
  expect(err?.message).toContain('Restore it from a backup, or move it aside');
  expect(err?.message).toContain(`mv ${file} ${file}.damaged`);
});

test('a database with damaged pages is refused at open (quick_check), not at the first read', async () => {
  const { file } = await databaseWithHistory();
  const pages = statSync(file).size / PAGE;
  expect(pages).toBeGreaterThan(40);
  damagePages(file, Math.floor(pages / 3), Math.floor(pages / 3) + 8);
  const store = new SqliteStore(file);
  const err = await store.init().then(
    () => null,
    (e: unknown) => e as Error,
  );
  expect(err?.message.startsWith(`${file} `)).toBe(true);
  expect(err?.message).toMatch(
    /^\S+ (has damaged pages \(PRAGMA quick_check: |is not a usable SQLite database \(SQLITE_CORRUPT)/,
  );
  process.stdout.write(`refusal: ${err?.message}\n`);
  expect(err?.message).toContain('Refusing to start on it. Restore it from a backup');
});

test('past quickCheckMaxBytes only the header and schema are checked, and the log says so', async () => {
  const { file } = await databaseWithHistory();
  const log = recordingLogger();
  const store = new SqliteStore(file, { log, quickCheckMaxBytes: 1024 });
  await store.init();
  expect(store.healthy()).toBe(true);
  const warned = log.lines.find((l) => l.level === 'warn');
  expect(warned?.msg).toContain(`sqlite3 ${file} "PRAGMA quick_check"`);
  expect((await store.history({ room: '#room1', limit: 3 })).length).toBe(3);
  await store.close();
});

test('damage the start-up check could not see (a large file) turns the store unhealthy when a read meets it', async () => {
  const { file } = await databaseWithHistory();
  const pages = statSync(file).size / PAGE;
  damagePages(file, Math.floor(pages / 3), Math.floor(pages / 3) + 8);
  const log = recordingLogger();
  const store = new SqliteStore(file, { log, quickCheckMaxBytes: 1024 });
  await store.init(); // the cheap check reads only the newest rows
  const changes: [boolean, string][] = [];
  store.onHealthChange((healthy, reason) => changes.push([healthy, reason]));
  await expect(store.history({ room: '#room3', limit: 1000 })).rejects.toThrow(/malformed/);
  expect(store.healthy()).toBe(false);
  expect(store.writable()).toBe(false);
  await new Promise((r) => setImmediate(r));
  expect(changes).toEqual([[false, 'the database file is damaged']]);
  expect(
    log.lines.some((l) => l.level === 'error' && l.msg.includes(`${file} has damaged pages`)),
  ).toBe(true);
  await store.close();
});

test('plugboard serve on a damaged database prints the refusal and exits 1, no stack trace', async () => {
  const { dir, file } = await databaseWithHistory();
  damagePages(file, 2, 40);
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--data-dir',
      dir,
      '--line-port',
      '0',
      ...OTHER_LISTENERS_OFF,
      '--no-console',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code).toBe(1);
  expect(stderr).toContain(`plugboard serve: cannot start: ${file} `);
  expect(stderr).toContain('move it aside to start with an empty history');
  expect(stderr).not.toMatch(/^\s+at /m);
});

test('an existing zero-length file starts as an empty history, with a warning naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-empty-'));
  const file = join(dir, 'plugboard.db');
  writeFileSync(file, '');
  const log = recordingLogger();
  const store = new SqliteStore(file, { log });
  await store.init();
  expect(await store.history({ room: '#lobby', limit: 10 })).toEqual([]);
  await store.close();
  const warnings = log.lines.filter((l) => l.level === 'warn');
  expect(warnings).toHaveLength(1);
  expect(warnings[0]?.obj).toEqual({ file });
  expect(warnings[0]?.msg).toContain(`${file} exists but is empty (zero bytes)`);
  expect(warnings[0]?.msg).toContain('restore the file from a backup');
});

test('a file the store creates, and a non-empty one, start without that warning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-new-'));
  const file = join(dir, 'plugboard.db');
  for (let run = 0; run < 2; run++) {
    // The first run creates the file; the second opens what the first left.
    const log = recordingLogger();
    const store = new SqliteStore(file, { log });
    await store.init();
    await store.close();
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
  }
  expect(statSync(file).size).toBeGreaterThan(0);
});
