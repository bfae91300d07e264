import { expect, test, vi } from 'vitest';
import { TokenBucket } from '../../src/core/flood.js';
import { InboundGate } from '../../src/core/inbound-gate.js';

test('token bucket allows a burst, then the steady rate', () => {
  let now = 0;
  const bucket = new TokenBucket(3, 2, { now: () => now });
  expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([
    true,
    true,
    true,
    false,
  ]);
  expect(bucket.waitMs()).toBe(500);
  now += 500;
  expect(bucket.take()).toBe(true);
  expect(bucket.take()).toBe(false);
});

test('rate 0 turns flood control off', () => {
  const bucket = new TokenBucket(1, 0, { now: () => 0 });
  for (let i = 0; i < 1000; i++) expect(bucket.take()).toBe(true);
});

test('the gate delays excess lines in order, then drops past its queue', () => {
  vi.useFakeTimers();
  try {
    let now = 0;
    const bucket = new TokenBucket(2, 10, { now: () => now });
    const ran: number[] = [];
    const floods: string[] = [];
    let paused = false;
    const gate = new InboundGate<number>(bucket, 3, {
      run: (n) => ran.push(n),
      pause: () => (paused = true),
      resume: () => (paused = false),
      onFlood: (kind, n) => floods.push(`${kind}:${n}`),
    });
    for (let i = 1; i <= 7; i++) gate.push(i);
    expect(ran).toEqual([1, 2]);
    expect(paused).toBe(true);
    expect(floods).toEqual(['delayed:3', 'dropped:6', 'dropped:7']);
    for (let step = 0; step < 5; step++) {
      now += 100;
      vi.advanceTimersByTime(100);
    }
    expect(ran).toEqual([1, 2, 3, 4, 5]);
    expect(paused).toBe(false);
  } finally {
    vi.useRealTimers();
  }
});
