import { expect, test, vi } from 'vitest';
import { WriteQueue } from '../../src/store/write-queue.js';

test('a synchronous writer gets batches in order, at most maxBatch each, nothing lost', async () => {
  const batches: number[][] = [];
  const q = new WriteQueue<number>((b) => void batches.push(b), { maxBatch: 4, intervalMs: 1000 });
  for (let i = 0; i < 10; i++) q.push(i);
  // Two full batches were written in the pushers' own turns (back-pressure), two wait.
  expect(batches).toEqual([
    [0, 1, 2, 3],
    [4, 5, 6, 7],
  ]);
  await q.stop();
  expect(batches.flat()).toEqual([...Array(10).keys()]);
});

test('an asynchronous writer: one batch in flight, failures keep the batch for a retry', async () => {
  vi.useFakeTimers();
  try {
    const written: number[] = [];
    let fail = true;
    const errors: unknown[] = [];
    const q = new WriteQueue<number>(
      async (b) => {
        if (fail) throw new Error('db down');
        written.push(...b);
      },
      { maxBatch: 3, intervalMs: 50, maxPending: 5 },
      (err) => errors.push(err),
    );
    q.start();
    for (let i = 0; i < 6; i++) q.push(i);
    await vi.advanceTimersByTimeAsync(10);
    expect(written).toEqual([]);
    expect(errors.length).toBeGreaterThan(0);
    expect(q.full).toBe(true); // the hub refuses new messages rather than lose any
    fail = false;
    await vi.advanceTimersByTimeAsync(60);
    await q.stop();
    expect(written).toEqual([0, 1, 2, 3, 4, 5]);
  } finally {
    vi.useRealTimers();
  }
});
