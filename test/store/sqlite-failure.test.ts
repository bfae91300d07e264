/**
 * SQLite under a real SQLITE_FULL (PRAGMA max_page_count: the database may not grow, so
 * SQLite fails the write exactly as on a full disk, without root or a small filesystem):
 * the appendMessage promise is exact, a failing batch is retried with backoff and not once
 * per new message, small writes wait in order too, and closing while failing says so.
 */
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { HistoryEntry } from '../../src/core/events.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { recordingLogger } from './contract.js';

let seq = 0;
function entry(room: string, text = `m${seq}`): HistoryEntry {
  seq++;
  const ts = Date.now();
  return {
    id: String(ts * 1000 + (seq % 1000)),
    ts,
    room,
    from: 'a',
    mask: 'a!a@h',
    text,
    kind: 'say',
  };
}
const big = (room: string) => entry(room, 'x'.repeat(3990));

const open: SqliteStore[] = [];
const readers: Database.Database[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
  for (const r of readers.splice(0)) r.close();
});

async function store(extra: ConstructorParameters<typeof SqliteStore>[1] = {}) {
  const file = join(mkdtempSync(join(tmpdir(), 'plugboard-full-')), 'plugboard.db');
  const s = new SqliteStore(file, extra);
  await s.init();
  open.push(s);
  // A second connection, as another process would see the file: only commits are visible.
  const reader = new Database(file, { readonly: true });
  readers.push(reader);
  const visible = (id: string) =>
    reader.prepare('SELECT count(*) AS n FROM messages WHERE id = ?').get(BigInt(id)) as {
      n: number;
    };
  return { s, file, seen: (id: string) => visible(id).n === 1 };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('appendMessage resolves after the commit, not before', async () => {
  const { s, seen } = await store();
  const e = entry('#t');
  let resolved = false;
  let visibleAtResolve: boolean | null = null;
  const p = s.appendMessage(e).then(() => {
    resolved = true;
    visibleAtResolve = seen(e.id);
  });
  await new Promise((r) => setImmediate(r));
  // Queued, not written: the 50 ms interval has not come.
  expect(resolved).toBe(false);
  expect(seen(e.id)).toBe(false);
  await p;
  expect(visibleAtResolve).toBe(true);
});

test('after a failure, appendMessage resolves only once a retry committed it', async () => {
  const { s, seen } = await store();
  s.setMaxPages(1);
  const entries = Array.from({ length: 10 }, () => big('#t'));
  const last = entries[entries.length - 1] as HistoryEntry;
  let visibleAtResolve: boolean | null = null;
  let resolved = false;
  const p = Promise.all(entries.map((e) => s.appendMessage(e))).then(() => {
    resolved = true;
    visibleAtResolve = seen(last.id);
  });
  await until(() => !s.healthy());
  await new Promise((r) => setTimeout(r, 400)); // several retries fail meanwhile
  expect(s.stats().failed).toBeGreaterThanOrEqual(2);
  expect(resolved).toBe(false);
  expect(seen(last.id)).toBe(false);
  s.setMaxPages(1 << 30);
  await p;
  expect(visibleAtResolve).toBe(true);
  expect(s.healthy()).toBe(true);
});

test('a failing batch is retried with backoff, not once per new message', async () => {
  const { s } = await store();
  s.setMaxPages(1);
  // 2,000 messages (four full batches) pushed straight at the store over ~1.5 s, past the
  // hub's refusal: with a retry per push this was thousands of failing transactions.
  const started = Date.now();
  for (let i = 0; i < 2000; i++) {
    void s.appendMessage(big('#t'));
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 15));
  }
  await new Promise((r) => setTimeout(r, Math.max(0, 1500 - (Date.now() - started))));
  const elapsed = Date.now() - started;
  const failed = s.stats().failed;
  // First attempt, then ~100, 200, 400, 800 ms later (±25%): at most 6 in 1.5-2 s.
  process.stdout.write(
    `backoff: ${failed} write attempts in ${elapsed} ms for 2000 queued messages\n`,
  );
  expect(failed).toBeGreaterThanOrEqual(3);
  expect(failed).toBeLessThanOrEqual(6);
  expect(s.stats().backlog).toBe(2000);
  s.setMaxPages(1 << 30);
  await until(() => s.stats().backlog === 0);
  const kept = await s.history({ room: '#t', limit: 2000 });
  expect(kept).toHaveLength(2000);
});

test('small writes wait in the same order while writes fail, and land after', async () => {
  const { s } = await store();
  s.setMaxPages(1);
  const filler = Array.from({ length: 20 }, () => big('#r'));
  for (const e of filler) void s.appendMessage(e);
  await until(() => !s.healthy());
  s.setSetting('motd', 'kept while the disk was full');
  s.saveRoom({
    name: '#r',
    topic: 't1',
    topicBy: 'a',
    topicAt: 1,
    flags: ['noExternal', 'topicLocked'],
    key: null,
    limit: 0,
    owner: null,
  });
  s.saveRoom({
    name: '#r',
    topic: 't2',
    topicBy: 'a',
    topicAt: 2,
    flags: ['noExternal', 'topicLocked'],
    key: null,
    limit: 0,
    owner: null,
  });
  expect(s.stats().backlog).toBe(23);
  s.setMaxPages(1 << 30);
  await until(() => s.stats().backlog === 0);
  expect(await s.getSetting('motd')).toBe('kept while the disk was full');
  expect((await s.loadRooms()).map((r) => r.topic)).toEqual(['t2']);
});

test('closing while writes still fail: one last try, then the promises reject and the log says how many', async () => {
  const log = recordingLogger();
  const { s } = await store({ log });
  s.setMaxPages(1);
  const promises = Array.from({ length: 5 }, () => s.appendMessage(big('#t')));
  await until(() => !s.healthy());
  open.length = 0;
  await s.close();
  for (const p of promises)
    await expect(p).rejects.toThrow(
      /closed before 5 queued writes could be made: database or disk is full/,
    );
  const lost = log.lines.find((l) => l.msg.includes('these queued writes are lost'));
  expect(lost?.obj).toMatchObject({ count: 5 });
});
