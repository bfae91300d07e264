import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Admission } from '../../src/core/admission.js';
import { parseServeArgs } from '../../src/config.js';
import { parseAddressSet } from '../../src/transports/address-set.js';
import {
  derivedMaxConnections,
  descriptorReserve,
  openFileLimit,
} from '../../src/transports/descriptors.js';

describe('Admission', () => {
  test('per address and in all, counted until released; exempt addresses skip the first', () => {
    const a = new Admission({ maxTotal: 3, maxPerAddress: 1, exempt: (x) => x === '127.0.0.1' });
    expect(a.admit('10.0.0.1')).toBeNull();
    expect(a.admit('10.0.0.1')).toBe('too many connections from your address');
    expect(a.admit('127.0.0.1')).toBeNull();
    expect(a.admit('127.0.0.1')).toBeNull();
    expect(a.admit('10.0.0.2')).toBe('server full'); // exemption does not lift the total
    expect(a.total).toBe(3);
    a.release('10.0.0.1');
    expect(a.heldBy('10.0.0.1')).toBe(0);
    expect(a.admit('10.0.0.2')).toBeNull();
    expect([a.refusedFull, a.refusedPerAddress]).toEqual([1, 1]);
  });

  test('releasing what was never admitted changes nothing', () => {
    const a = new Admission({ maxTotal: 2, maxPerAddress: 2 });
    a.release('10.0.0.9');
    expect(a.admit('10.0.0.1')).toBeNull();
    a.release('10.0.0.1');
    a.release('10.0.0.1');
    expect(a.total).toBe(0);
    expect(a.addresses).toBe(0);
  });

  test('property: counts equal admissions minus releases, and never pass the limits', () => {
    const op = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 4 }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const a = new Admission({ maxTotal: 6, maxPerAddress: 2 });
        const held = new Map<number, number>();
        for (const [admit, who] of ops) {
          const address = `10.0.0.${who}`;
          if (admit) {
            if (a.admit(address) === null) held.set(who, (held.get(who) ?? 0) + 1);
          } else if ((held.get(who) ?? 0) > 0) {
            a.release(address);
            held.set(who, (held.get(who) as number) - 1);
          }
          const total = [...held.values()].reduce((x, y) => x + y, 0);
          if (a.total !== total || total > 6) return false;
          for (const [w, n] of held) if (a.heldBy(`10.0.0.${w}`) !== n || n > 2) return false;
        }
        return true;
      }),
    );
  });
});

describe('--limit-exempt address sets', () => {
  test('CIDR ranges, bare addresses, IPv4-mapped IPv6, none', () => {
    const set = parseAddressSet('127.0.0.0/8, ::1, 10.1.2.0/24');
    expect(set.has('127.9.9.9')).toBe(true);
    expect(set.has('::1')).toBe(true);
    expect(set.has('::ffff:127.0.0.1')).toBe(true);
    expect(set.has('10.1.2.200')).toBe(true);
    expect(set.has('10.1.3.1')).toBe(false);
    expect(set.has('unknown')).toBe(false);
    expect(parseAddressSet('none').has('127.0.0.1')).toBe(false);
    expect(parseAddressSet('').has('127.0.0.1')).toBe(false);
    expect(() => parseAddressSet('10.0.0.0/33')).toThrow(/prefix length/);
    expect(() => parseAddressSet('example.com')).toThrow(/not an address/);
    expect(() => parseAddressSet('10.0.0.0/8x')).toThrow(/prefix length/);
  });

  test('property: an IPv4 address is in a.b.c.0/24 exactly when its first three bytes are a.b.c', () => {
    const byte = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(fc.tuple(byte, byte, byte), fc.tuple(byte, byte, byte, byte), (net, ip) => {
        const set = parseAddressSet(`${net.join('.')}.0/24`);
        const inside = net.every((b, i) => b === ip[i]);
        return set.has(ip.join('.')) === inside;
      }),
    );
  });
});

describe('defaults', () => {
  test('--max-per-ip is 20 with loopback exempt; --max-connections comes from the open-file limit', () => {
    const c = parseServeArgs([], {});
    if (c === 'help') throw new Error('help');
    expect(c.options.maxConnectionsPerIp).toBe(20);
    expect(c.limitExempt.has('127.0.0.1')).toBe(true);
    expect(c.limitExempt.has('::1')).toBe(true);
    expect(c.limitExempt.has('192.0.2.1')).toBe(false);
    expect(c.descriptors.derived).toBe(true);
    const limit = openFileLimit();
    expect(c.descriptors.limit).toBe(limit);
    expect(c.descriptors.reserve).toBe(descriptorReserve(256));
    expect(c.options.maxConnections).toBe(derivedMaxConnections(limit, c.descriptors.reserve));
    const given = parseServeArgs(['--max-connections', '500', '--http-port', '-1'], {});
    if (given === 'help') throw new Error('help');
    expect(given.options.maxConnections).toBe(500);
    expect(given.descriptors.reserve).toBe(descriptorReserve(0)); // no HTTP listener
  });

  test('the soft open-file limit is read from /proc/self/limits', () => {
    const text =
      'Limit                     Soft Limit           Hard Limit           Units\n' +
      'Max open files            1024                 524288               files\n';
    expect(openFileLimit(text)).toBe(1024);
    expect(openFileLimit('Max open files  unlimited unlimited files\n')).toBeNull();
    expect(derivedMaxConnections(1024, descriptorReserve(256))).toBe(1024 - 64 - 64 - 256);
    expect(derivedMaxConnections(100, 500)).toBe(1);
    expect(derivedMaxConnections(null, 500)).toBe(100_000);
  });
});
