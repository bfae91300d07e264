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
