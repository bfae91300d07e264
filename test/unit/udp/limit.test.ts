import { describe, expect, test } from 'vitest';
import { formatSummary, summarize } from '../../../src/client/udp-ping.js';
import { SourceLimiter } from '../../../src/transports/udp-limit.js';

function limiter(over: Partial<ConstructorParameters<typeof SourceLimiter>[0]> = {}) {
  const clock = { t: 0, now: () => clock.t };
  const l = new SourceLimiter({
    packetsPerSecond: 10,
    bytesPerSecond: 100_000,
    maxSources: 3,
    clock,
    ...over,
  });
  return { l, clock };
}

describe('SourceLimiter', () => {
  test('datagrams per source: a burst, then the steady rate', () => {
    const { l, clock } = limiter();
    const admitted = () =>
      Array.from({ length: 30 }, () => l.admit('10.0.0.1', 10)).filter(Boolean);
    expect(admitted().length).toBe(10);
    clock.t += 500;
    expect(admitted().length).toBe(5);
    // Another address has its own budget.
    expect(l.admit('10.0.0.2', 10)).toBe(true);
  });

  test('bytes per source: all or nothing, and one largest datagram always fits the burst', () => {
    const { l, clock } = limiter({ bytesPerSecond: 1000 });
    expect(l.admit('a', 65_536)).toBe(true);
    expect(l.admit('a', 10)).toBe(false); // the byte budget is spent…
    clock.t += 100;
    expect(l.admit('a', 100)).toBe(true); // …and refills at 1000 B/s
    expect(l.admit('a', 65_537)).toBe(false); // over 64 KiB: never
    // Datagrams refused for their size do not use up datagram tokens.
    clock.t += 70_000;
    expect(l.admit('a', 65_000)).toBe(true); // 536 bytes and 9 datagrams left
    for (let i = 0; i < 10; i++) expect(l.admit('a', 1000)).toBe(false);
    expect(Array.from({ length: 10 }, () => l.admit('a', 50))).toEqual([
      ...Array<boolean>(9).fill(true),
      false,
    ]);
  });

  test('the source table is bounded; quiet sources are forgotten', () => {
    const { l, clock } = limiter();
    for (const a of ['a', 'b', 'c']) expect(l.admit(a, 1)).toBe(true);
    expect(l.admit('d', 1)).toBe(true); // the table is full of busy sources: shared budget
    expect(l.size).toBe(3);
    expect(l.overflowed).toBe(1);
    clock.t += 1000;
    l.admit('a', 1);
    l.sweep();
    expect(l.size).toBe(1); // b and c were full again; a had just sent
    expect(l.admit('d', 1)).toBe(true);
    expect(l.size).toBe(2);
  });
});

describe('SourceLimiter under a flood of forged sources', () => {
  test('a full table of sources that went quiet never locks out a new one', () => {
    const { l, clock } = limiter({ maxSources: 1000 });
    // 1000 forged sources, one datagram each: the table is full.
    for (let i = 0; i < 1000; i++) expect(l.admit(`10.9.${i >> 8}.${i & 255}`, 100)).toBe(true);
    clock.t += 200; // long enough for their buckets to be full again, not for a sweep
    // Each newcomer takes the place of the least recently charged, idle, source.
    for (let i = 0; i < 50; i++) expect(l.admit(`192.0.2.${i}`, 100)).toBe(true);
    expect(l.size).toBe(1000);
    expect(l.evicted).toBe(50);
    expect(l.overflowed).toBe(0);
    // A newcomer keeps its own entry: its whole burst is its own.
    expect(Array.from({ length: 12 }, () => l.admit('192.0.2.0', 10)).filter(Boolean)).toHaveLength(
      9,
    );
  });

  test('with every entry busy, the sources without one share one source budget', () => {
    const { l, clock } = limiter({ maxSources: 100, packetsPerSecond: 10 });
    const busy = () => {
      for (let i = 0; i < 100; i++) l.admit(`10.1.0.${i}`, 10);
    };
    busy();
    // A flood of fresh forged sources: together they get one source's burst (10), no more.
    let echoed = 0;
    for (let i = 0; i < 5000; i++) if (l.admit(`10.2.${i >> 8}.${i & 255}`, 10)) echoed++;
    expect(echoed).toBe(10);
    expect(l.size).toBe(100);
    // A second later, busy again: the overflow budget refilled at one source's rate.
    clock.t += 1000;
    busy();
    expect(l.admit('192.0.2.1', 10)).toBe(true);
  });
});

describe('udp-ping summary', () => {
  test('loss and min/avg/max/p99', () => {
    const rtts = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarize(200, rtts)).toEqual({
      sent: 200,
      received: 100,
      lossPercent: 50,
      rtt: { min: 1, avg: 50.5, max: 100, p99: 99 },
    });
    expect(summarize(4, [])).toEqual({ sent: 4, received: 0, lossPercent: 100 });
    expect(formatSummary('h:1', summarize(2, [0.5, 1.5]))).toBe(
      '--- h:1 udp-ping statistics ---\n2 sent, 2 received, 0.0% loss\nrtt min/avg/max/p99 = 0.500/1.000/1.500/1.500 ms\n',
    );
  });
});
