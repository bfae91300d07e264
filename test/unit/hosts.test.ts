/**
 * The displayed-host check (core/hosts.ts hostProblem), the one gate a CHGHOST host goes
 * through: any text gets an answer, never an exception, and what passes can never break
 * a mask or a line.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { hostProblem, MAX_HOST_LENGTH } from '../../src/core/hosts.js';

const ALLOWED = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/-'];

describe('hostProblem', () => {
  test('any text: accepted hosts are 1-63 characters with nothing a mask or line forbids', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({
        unit: fc.constantFrom(...ALLOWED, ' ', '!', '@', '*', '?', ',', '\r', '\n', '\0', 'é'),
        maxLength: 70,
      }),
    );
    fc.assert(
      fc.property(text, (host) => {
        const problem = hostProblem(host);
        if (problem !== null) {
          expect(typeof problem).toBe('string');
          return;
        }
        expect(host.length).toBeGreaterThan(0);
        expect(host.length).toBeLessThanOrEqual(MAX_HOST_LENGTH);
        expect(host).not.toMatch(/[\s!@*?,\p{Cc}]/u);
        expect(host.startsWith(':')).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  test('every host of the allowed characters, not starting with ":", passes', () => {
    const host = fc
      .string({ unit: fc.constantFrom(...ALLOWED), minLength: 1, maxLength: MAX_HOST_LENGTH })
      .filter((h) => !h.startsWith(':'));
    fc.assert(
      fc.property(host, (h) => {
        expect(hostProblem(h)).toBeNull();
      }),
    );
  });

  test('the limits, exactly', () => {
    expect(hostProblem('')).toMatch(/empty/);
    expect(hostProblem('a'.repeat(MAX_HOST_LENGTH))).toBeNull();
    expect(hostProblem('a'.repeat(MAX_HOST_LENGTH + 1))).toMatch(/at most 63/);
    for (const bad of ['a b', 'a\tb', 'x!y', 'x@y', 'x*', 'x?', 'a,b', 'a\u0001', 'café']) {
      expect(hostProblem(bad), bad).not.toBeNull();
    }
    expect(hostProblem('staff/alice')).toBeNull();
    expect(hostProblem('2001:db8::1')).toBeNull();
  });
});
