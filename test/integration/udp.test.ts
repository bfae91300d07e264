import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import dgram from 'node:dgram';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CLI } from '../helpers/process.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

let server: RunningServer;
let port: number;
beforeAll(async () => {
  server = await startTestServer(['--udp-port', '0', '--udp-rate', '20']);
  port = portOf(server, 'udp');
});
afterAll(() => server.close());

function exchange(payloads: Buffer[], waitMs = 300): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    socket.on('message', (m) => got.push(m));
    socket.bind(0, '127.0.0.1', () => {
      for (const p of payloads) socket.send(p, port, '127.0.0.1');
      setTimeout(() => {
        socket.close();
        resolve(got);
      }, waitMs);
    });
  });
}

test('each datagram comes back unchanged, up to 64 KiB', async () => {
  const binary = Buffer.from([0, 255, 1, 254, 10, 13]);
  const big = Buffer.alloc(60_000, 7);
  const got = await exchange([binary, Buffer.from('hello 你好'), big]);
  expect(got).toContainEqual(binary);
  expect(got).toContainEqual(Buffer.from('hello 你好'));
  expect(got.some((g) => g.equals(big))).toBe(false); // 59 KiB: over this source's 20 KiB/s budget
  const small = await exchange([Buffer.alloc(1000, 1)]);
  expect(small).toEqual([Buffer.alloc(1000, 1)]);
});

test('a source sending faster than its rate limit gets only its share back', async () => {
  await new Promise((r) => setTimeout(r, 1100)); // let the bucket refill
  const burst = Array.from({ length: 100 }, (_, i) => Buffer.from(`n${i}`));
  const got = await exchange(burst);
  expect(got.length).toBeGreaterThanOrEqual(15);
  expect(got.length).toBeLessThanOrEqual(25);
});

test('udp-ping prints replies and a summary', async () => {
  await new Promise((r) => setTimeout(r, 1100));
  // Async: the server runs in this process and must keep answering while udp-ping runs.
  const r = await promisify(execFile)(process.execPath, [
    CLI,
    'udp-ping',
    `127.0.0.1:${port}`,
    '--count',
    '4',
    '--interval',
    '20',
    '--size',
    '100',
  ]);
  expect(r.stdout).toMatch(/^100 bytes from 127\.0\.0\.1:\d+: seq=0 time=[\d.]+ ms$/m);
  expect(r.stdout).toMatch(/^4 sent, 4 received, 0\.0% loss$/m);
  expect(r.stdout).toMatch(/^rtt min\/avg\/max\/p99 = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms$/m);
});
