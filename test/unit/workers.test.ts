import { availableParallelism } from 'node:os';
import { describe, expect, test } from 'vitest';
import { ConfigError, parseServeArgs, type ServerConfig } from '../../src/config.js';
import { RestartBackoff } from '../../src/cluster/workers-backoff.js';
import { hostStatsLines, type StatsSnapshot } from '../../src/admin/stats.js';

const parse = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  parseServeArgs(args, env) as ServerConfig;

describe('--workers', () => {
  test('one process unless asked; a number or auto with a Redis bus', () => {
    expect(parse([]).workers).toBe(1);
    expect(parse(['--workers', '1']).workers).toBe(1);
    expect(parse(['--workers', '3', '--bus', 'redis://127.0.0.1:6379']).workers).toBe(3);
    expect(parse(['--workers', '2', '--bus', 'rediss://cache.internal:6380/2']).workers).toBe(2);
    expect(parse(['--workers', 'auto', '--bus', 'redis://127.0.0.1:6379']).workers).toBe(
      availableParallelism(),
    );
    expect(parse([], { PLUGBOARD_WORKERS: '4', PLUGBOARD_BUS: 'redis://r:6379' }).workers).toBe(4);
  });

  test('more than one without a shared bus is refused, saying why', () => {
    expect(() => parse(['--workers', '2'])).toThrow(ConfigError);
    expect(() => parse(['--workers', '2', '--bus', 'local'])).toThrow(
      /--workers 2 needs a bus the workers share: give --bus redis:\/\/HOST:PORT \(each worker on '--bus local' would be a separate chat/,
    );
    expect(() => parse(['--workers', '2', '--bus', 'http://redis:6379'])).toThrow(ConfigError);
    // The test-only switch: process machinery without Redis.
    expect(parse(['--workers', '2'], { PLUGBOARD_TEST_UNSHARED_WORKERS: '1' }).workers).toBe(2);
    expect(() => parse(['--workers', '2'], { PLUGBOARD_TEST_UNSHARED_WORKERS: 'yes' })).toThrow(
      ConfigError,
    );
  });

  test('bad values are refused', () => {
    for (const bad of ['0', '-1', 'two', '1.5', '2x', ' 2', '257', 'AUTO', '']) {
      expect(() => parse([`--workers=${bad}`, '--bus', 'redis://r:1']), bad).toThrow(
        /--workers must be 'auto' or a whole number between 1 and 256/,
      );
    }
    expect(parse(['--workers', '256', '--bus', 'redis://r:1']).workers).toBe(256);
  });
});

describe('restart backoff', () => {
  const options = { firstMs: 200, maxMs: 30_000, stableMs: 30_000 };

  test('doubles while a worker keeps dying, up to the ceiling', () => {
    const b = new RestartBackoff(options);
    const waits = Array.from({ length: 10 }, () => b.next(50));
    expect(waits).toEqual([200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
    expect(b.count).toBe(10);
    for (let i = 0; i < 2000; i++) b.next(0);
    expect(b.next(0)).toBe(30_000);
  });

  test('a worker that ran for a while starts the count again', () => {
    const b = new RestartBackoff(options);
    b.next(10);
    b.next(10);
    expect(b.next(29_999)).toBe(800);
    expect(b.next(30_000)).toBe(200);
    expect(b.next(100)).toBe(400);
  });
});

describe('host stats', () => {
  const snapshot = (connections: number, byProtocol: Record<string, number>): StatsSnapshot => ({
    uptimeS: 10,
    connections,
    byProtocol,
    registered: connections,
    peak: connections,
    rooms: 3,
    messagesIn: 5,
    deliveries: 7,
    encodings: 2,
    sendQueueEvictions: 1,
    floodDelayed: 0,
    floodDropped: 0,
    refused: 0,
    memory: { rss: 100 * 1048576, heapUsed: 1, heapTotal: 2, external: 3 },
    transport: [`chat sockets ${connections} of 100 (20 per address)`],
    bus: { name: 'redis', node: 'na', healthy: true, outages: 0, lost: 0 },
  });

  test('sums the serving workers, then shows each, and says which are not serving', () => {
    const lines = hostStatsLines(
      [
        { slot: 1, pid: 11, nodeId: 'na', restarts: 0, stats: snapshot(3, { line: 2, ws: 1 }) },
        { slot: 2, pid: 12, nodeId: 'nb', restarts: 2, stats: snapshot(2, { line: 1, irc: 1 }) },
        { slot: 3, pid: null, nodeId: null, restarts: 1, stats: null, note: 'restarting' },
      ],
      50 * 1048576,
      ['udp echoed 4, dropped 0'],
    );
    expect(lines[0]).toBe(
      'host: 3 workers, 2 serving; connections 5 (line=3 ws=1 irc=1); registered 5',
    );
    expect(lines[1]).toBe(
      'host: messages in 10; deliveries 14; send-queue evictions 2; refused 0; ' +
        "memory rss 250.0 MiB with the primary's 50.0 MiB",
    );
    expect(lines[2]).toBe('host: udp echoed 4, dropped 0');
    expect(lines).toContain('worker 1 (pid 11, node na, restarts 0): connections 3');
    expect(lines).toContain('  uptime 10s; connections 3 (line=2 ws=1); registered 3; peak 3');
    expect(lines).toContain('  chat sockets 3 of 100 (20 per address)');
    expect(lines).toContain('worker 2 (pid 12, node nb, restarts 2): connections 2');
    expect(lines.at(-1)).toBe('worker 3 (pid -, node -, restarts 1): restarting');
  });
});
