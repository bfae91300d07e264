/**
 * The `--bus` URL of a Redis Cluster (src/cluster/redis-url.ts): the nodes, credentials
 * and TLS it names, what it refuses, and properties: any node list written out reads back
 * the same, and no input throws anything but a BusUrlError.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  BusUrlError,
  isClusterBus,
  isRedisBus,
  nodeUrl,
  parseClusterUrl,
  type ClusterUrl,
} from '../../src/cluster/redis-url.js';
import { routingKey } from '../../src/cluster/redis-cluster-client.js';
import { parseServeArgs } from '../../src/config.js';

describe('redis+cluster:// URLs', () => {
  test('nodes, default port, IPv6, credentials, TLS', () => {
    expect(parseClusterUrl('redis+cluster://10.0.0.1:7000,10.0.0.2,[::1]:7002')).toEqual({
      tls: false,
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
        { host: '::1', port: 7002 },
      ],
    });
    expect(parseClusterUrl('rediss+cluster://bus:s%40cret@redis.example:6380/')).toEqual({
      tls: true,
      username: 'bus',
      password: 's@cret',
      nodes: [{ host: 'redis.example', port: 6380 }],
    });
    expect(parseClusterUrl('REDIS+CLUSTER://:pw@h:1/0')).toMatchObject({
      password: 'pw',
      nodes: [{ host: 'h', port: 1 }],
    });
    const c = parseClusterUrl('rediss+cluster://[fe80::1]:7000');
    expect(nodeUrl(c, c.nodes[0] as ClusterUrl['nodes'][number])).toBe('rediss://[fe80::1]:7000');
  });

  test.each([
    ['redis+cluster://', /at least one host/],
    ['redis+cluster://h:1,', /bad host/],
    ['redis+cluster://h:', /no port/],
    ['redis+cluster://h:0', /bad port/],
    ['redis+cluster://h:65536', /bad port/],
    ['redis+cluster://h:12a', /bad port/],
    ['redis+cluster://h:1/2', /database 0 only/],
    ['redis+cluster://h:1?x=1', /takes no options/],
    ['redis+cluster://[zz]:1', /bad IPv6/],
    ['redis+cluster://:%zz@h:1', /percent-encoding/],
  ])('%s is refused', (url, why) => {
    expect(() => parseClusterUrl(url)).toThrow(BusUrlError);
    expect(() => parseClusterUrl(url)).toThrow(why);
  });

  test('which buses are Redis, which a cluster', () => {
    expect(isRedisBus('redis://h:1')).toBe(true);
    expect(isRedisBus('rediss://h:1')).toBe(true);
    expect(isRedisBus('redis+cluster://h:1')).toBe(true);
    expect(isClusterBus('rediss+cluster://h:1')).toBe(true);
    expect(isClusterBus('redis://h:1')).toBe(false);
    expect(isRedisBus('local')).toBe(false);
  });

  test('a bad cluster URL stops the start with its reason (exit 2 from the CLI)', () => {
    expect(() => parseServeArgs(['--bus', 'redis+cluster://h:99999'], {})).toThrow(/bad port/);
    const ok = parseServeArgs(['--bus', 'redis+cluster://h:1,h:2', '--workers', '2'], {});
    expect(ok === 'help' ? null : ok.bus).toBe('redis+cluster://h:1,h:2');
  });

  const host = fc.oneof(
    fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/),
    fc.ipV4(),
    fc.ipV6().filter((h) => !h.includes('.')),
  );
  const node = fc.record({ host, port: fc.integer({ min: 1, max: 65535 }) });

  test('property: a node list written out reads back the same', () => {
    fc.assert(
      fc.property(
        fc.array(node, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
        (nodes, tls, password) => {
          const list = nodes
            .map((n) => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`)
            .join(',');
          const auth = password === undefined ? '' : `:${encodeURIComponent(password)}@`;
          const url = `${tls ? 'rediss' : 'redis'}+cluster://${auth}${list}`;
          const parsed = parseClusterUrl(url);
          expect(parsed.nodes).toEqual(nodes);
          expect(parsed.tls).toBe(tls);
          expect(parsed.password).toBe(password);
        },
      ),
    );
  });

  test('property: any input is read or refused with a BusUrlError, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (rest) => {
        try {
          const c = parseClusterUrl(`redis+cluster://${rest}`);
          expect(c.nodes.length).toBeGreaterThan(0);
          for (const n of c.nodes) expect(n.port).toBeGreaterThanOrEqual(1);
        } catch (err) {
          expect(err).toBeInstanceOf(BusUrlError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('routing on a cluster', () => {
  test('a command goes by its first key, a script by KEYS[1], PING anywhere', () => {
    expect(routingKey(['GET', 'pb:name:x'])).toBe('pb:name:x');
    expect(routingKey(['SPUBLISH', 'pb:{r:#a}', 'hi'])).toBe('pb:{r:#a}');
    expect(routingKey(['EVALSHA', 'abc', '2', 'pb:{r:#a}:meta', 'pb:{r:#a}:log', 'x'])).toBe(
      'pb:{r:#a}:meta',
    );
    expect(routingKey(['EVAL', 'return 1', '0'])).toBeUndefined();
    expect(routingKey(['PING'])).toBeUndefined();
  });
});
