/**
 * The write queue's invariants (src/store/write-queue.ts), with an injected clock: order,
 * nothing dropped, backoff instead of a retry per push, exact completion promises.
 * test/store/failure.test.ts proves the same against real SQLite and PostgreSQL failures.
 */
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { WriteQueue } from '../../src/store/write-queue.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** stop() under the fake clock: a backlog drains a chunk per turn. */
async function stop(q: WriteQueue<number>): Promise<void> {
  const done = q.stop();
  await vi.advanceTimersByTimeAsync(100);
  await done;
}

/** A writer that fails while `down` is true and records every attempt. */
function flakyWriter(sync: boolean) {
  const state = {
    down: false,
    attempts: [] as { at: number; batch: number[] }[],
    written: [] as number[],
  };
  const write = (batch: number[]) => {
    state.attempts.push({ at: Date.now(), batch: [...batch] });
    if (state.down) {
      const err = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      if (sync) throw err;
      return Promise.reject(err);
    }
    state.written.push(...batch);
    return sync ? undefined : Promise.resolve();
  };
  return { state, write };
}

test('a synchronous writer gets batches in order, at most maxBatch each, nothing lost', async () => {
  const batches: number[][] = [];
  const q = new WriteQueue<number>((b) => void batches.push([...b]), {
    maxBatch: 4,
    intervalMs: 1000,
  });
  for (let i = 0; i < 10; i++) void q.push(i);
  // Two full batches were written in the pushers' own turns (back-pressure), two wait.
  expect(batches).toEqual([
    [0, 1, 2, 3],
    [4, 5, 6, 7],
  ]);
  await q.stop();
  expect(batches.flat()).toEqual([...Array(10).keys()]);
});

test.each([
  ['synchronous', true],
  ['asynchronous', false],
])(
  '%s writer failing: pushes never retry, the timer backs off 100 ms doubling to the cap',
  async (_kind, sync) => {
    const { state, write } = flakyWriter(sync);
    const failures: unknown[] = [];
    const recoveries: number[] = [];
    const q = new WriteQueue<number>(
      write,
      { maxBatch: 5, intervalMs: 50, maxPending: 1000, retryBaseMs: 100, retryMaxMs: 1600 },
      {
        onFailing: (err) => failures.push(err),
        onRecovered: (attempts) => recoveries.push(attempts),
        random: () => 0.5, // no jitter: exact delays
      },
    );
    q.start();
    state.down = true;
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) void q.push(i); // a full batch: written (and fails) at once
    await vi.advanceTimersByTimeAsync(0);
    expect(state.attempts).toHaveLength(1);
    expect(q.failing).toBe(true);
    // 500 more pushes, 100 full batches' worth, over 10 s: still one attempt per backoff step.
    for (let i = 5; i < 505; i++) {
      void q.push(i);
      if (i % 50 === 0) await vi.advanceTimersByTimeAsync(1000);
    }
    await vi.advanceTimersByTimeAsync(10_000 - (Date.now() - t0));
    const gaps = state.attempts
      .slice(1)
      .map((a, i) => a.at - (state.attempts[i] as { at: number }).at);
    expect(gaps.slice(0, 6)).toEqual([100, 200, 400, 800, 1600, 1600]);
    expect(state.attempts.length).toBeLessThanOrEqual(11);
    // Every retry is the same sealed batch, the oldest.
    for (const a of state.attempts) expect(a.batch).toEqual([0, 1, 2, 3, 4]);
    expect(failures).toHaveLength(1); // once per episode
    expect(q.failed).toBe(state.attempts.length);
    expect(q.size).toBe(505);

    const failedAttempts = state.attempts.length;
    state.down = false;
    await vi.advanceTimersByTimeAsync(1700);
    expect(recoveries).toEqual([failedAttempts]);
    await stop(q);
    expect(state.written).toEqual([...Array(505).keys()]);
    expect(q.failing).toBe(false);
    expect(q.written).toBe(505);
  },
);

test('the retry delay is jittered by ±25% and capped', () => {
  const at = (r: number) =>
    new WriteQueue<number>(() => {}, { retryBaseMs: 100, retryMaxMs: 5000 }, { random: () => r });
  expect(at(0).retryDelay(1)).toBe(75);
  expect(at(0.999999).retryDelay(1)).toBe(125);
  expect(at(0.5).retryDelay(3)).toBe(400);
  expect(at(0.5).retryDelay(7)).toBe(5000);
  expect(at(0.5).retryDelay(1000)).toBe(5000);
});

test('full at maxPending; the push promise resolves after its write, in order', async () => {
  const { state, write } = flakyWriter(false);
  const q = new WriteQueue<number>(write, { maxBatch: 3, intervalMs: 50, maxPending: 5 });
  q.start();
  const settled: number[] = [];
  const promises = Array.from({ length: 6 }, (_, i) =>
    q.push(i).then(() => {
      // Resolved only once the item was handed to a write that succeeded.
      expect(state.written).toContain(i);
      settled.push(i);
    }),
  );
  expect(q.full).toBe(true); // the hub refuses new messages rather than lose any
  expect(settled).toEqual([]);
  await vi.advanceTimersByTimeAsync(60);
  await Promise.all(promises);
  expect(settled).toEqual([0, 1, 2, 3, 4, 5]);
  await stop(q);
});

test('stop: one last attempt; if it fails too, the promises reject (never unhandled)', async () => {
  const { state, write } = flakyWriter(true);
  const abandoned: number[] = [];
  const q = new WriteQueue<number>(
    write,
    { maxBatch: 100, intervalMs: 50 },
    { onAbandoned: (n) => abandoned.push(n) },
  );
  q.start();
  state.down = true;
  const p = q.push(1);
  void q.push(2); // ignored by its caller: its rejection must not be an unhandled one
  await vi.advanceTimersByTimeAsync(60);
  expect(state.attempts).toHaveLength(1);
  await stop(q);
  expect(state.attempts).toHaveLength(2);
  await expect(p).rejects.toThrow(
    /closed before 2 queued writes could be made: database or disk is full/,
  );
  expect(abandoned).toEqual([2]);
  await expect(q.push(3)).rejects.toThrow(/closed/);
});

test('stop after the disk came back: the last attempt writes everything', async () => {
  const { state, write } = flakyWriter(true);
  const q = new WriteQueue<number>(write, { maxBatch: 2, intervalMs: 50, retryBaseMs: 60_000 });
  q.start();
  state.down = true;
  const promises = [1, 2, 3, 4, 5].map((i) => q.push(i));
  await vi.advanceTimersByTimeAsync(60);
  state.down = false;
  await stop(q); // long before the 60 s retry
  await Promise.all(promises);
  expect(state.written).toEqual([1, 2, 3, 4, 5]);
});
