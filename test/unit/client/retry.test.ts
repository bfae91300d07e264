/** The terminal client's reconnect schedule, on an injected clock and random source. */
import { describe, expect, test } from 'vitest';
import { retryDelay, retryUntil, RETRY_MAX_MS, seconds } from '../../../src/client/retry.js';

describe('retryDelay', () => {
  test('0.5 s, doubling to 15 s; jitter shortens a wait by at most a fifth, never lengthens it', () => {
    const top = () => 0;
    expect([0, 1, 2, 3, 4, 5, 6, 40].map((n) => retryDelay(n, top))).toEqual([
      500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000,
    ]);
    const bottom = () => 0.999_999;
    expect([0, 1, 5].map((n) => retryDelay(n, bottom))).toEqual([400, 800, 12_000]);
    for (let n = 0; n < 12; n++) expect(retryDelay(n)).toBeLessThanOrEqual(RETRY_MAX_MS);
  });
});

describe('retryUntil', () => {
  test('waits on the schedule, announces each real wait with the failure before it', async () => {
    const slept: number[] = [];
    const said: string[] = [];
    let tries = 0;
    const ok = await retryUntil(
      async () => {
        tries++;
        if (tries < 4) throw new Error(`refused ${tries}`);
      },
      {
        sleep: async (ms) => void slept.push(ms),
        random: () => 0.5,
        onWait: (ms, failure) => said.push(`${seconds(ms)} ${failure?.message ?? '-'}`),
      },
    );
    expect(ok).toBe(true);
    expect(tries).toBe(4);
    // What is said is exactly what is waited: the first (fast) try included.
    expect(slept).toEqual([450, 900, 1800, 3600]);
    expect(said).toEqual(['0.5 s -', '0.9 s refused 1', '1.8 s refused 2', '3.6 s refused 3']);
  });

  test('gives up after a wait once stopped, without trying again', async () => {
    let stop = false;
    let tries = 0;
    const ok = await retryUntil(
      async () => {
        tries++;
        stop = true;
        throw new Error('down');
      },
      { sleep: async () => {}, stopped: () => stop },
    );
    expect(ok).toBe(false);
    expect(tries).toBe(1);
  });
});
