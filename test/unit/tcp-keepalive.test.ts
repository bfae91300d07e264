import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseServeArgs } from '../../src/config.js';
import { keepaliveDelay } from '../../src/transports/tcp.js';

describe('TCP keepalive', () => {
  it('draws each delay from [base, 2×base)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 3_600_000 }), (base) => {
        const d = keepaliveDelay(base);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(base);
        expect(d).toBeLessThan(2 * base);
      }),
    );
  });

  it('spreads connections made together over the whole range', () => {
    // 1,000 draws at a 60 s base: each 6 s tenth of the range gets some, none gets half.
    const tenths = new Array<number>(10).fill(0);
    for (let i = 0; i < 1000; i++) {
      const d = keepaliveDelay(60_000);
      tenths[Math.floor((d - 60_000) / 6000)]! += 1;
    }
    for (const t of tenths) {
      expect(t).toBeGreaterThan(0);
      expect(t).toBeLessThan(500);
    }
  });

  const keepaliveMs = (argv: string[]): number => {
    const config = parseServeArgs(argv, {});
    if (config === 'help') throw new Error('unexpected help');
    return config.tcpKeepaliveMs;
  };

  it('--tcp-keepalive sets the base in seconds, 0 turns probes off, bad values are refused', () => {
    expect(keepaliveMs([])).toBe(60_000);
    expect(keepaliveMs(['--tcp-keepalive', '0'])).toBe(0);
    expect(keepaliveMs(['--tcp-keepalive', '300'])).toBe(300_000);
    expect(() => parseServeArgs(['--tcp-keepalive', '-1'], {})).toThrow(ConfigError);
    expect(() => parseServeArgs(['--tcp-keepalive', 'soon'], {})).toThrow(/--tcp-keepalive/);
  });
});
