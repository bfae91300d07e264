import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CLI, spawnServer } from '../../helpers/process.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import type { RunningServer } from '../../../src/server.js';

const run = promisify(execFile);

let server: RunningServer;
let port: number;
beforeAll(async () => {
  server = await startTestServer([
    '--udp-port',
    '0',
    '--udp-rate',
    '20',
    '--udp-byte-rate',
    '100000',
  ]);
  port = portOf(server, 'udp');
});
afterAll(() => server.close());

/** Sends datagrams from one fresh socket and collects what comes back within `waitMs`. */
function exchange(payloads: Buffer[], waitMs = 300): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    socket.on('message', (m) => got.push(m));
    socket.bind(0, '127.0.0.1', () => {
      socket.setRecvBufferSize(1 << 20);
      for (const p of payloads) socket.send(p, port, '127.0.0.1');
      setTimeout(() => {
        socket.close();
        resolve(got);
      }, waitMs);
    });
  });
}

// The budgets refill in a second: tests that use them up wait before the next.
const refill = () => new Promise((r) => setTimeout(r, 1100));

test('each datagram comes back unchanged, up to the largest UDP payload', async () => {
  const binary = Buffer.from([0, 255, 1, 254, 10, 13, 0]);
  const biggest = Buffer.alloc(65_507, 7); // 64 KiB less the IP and UDP headers
  biggest.write('end', 65_504);
  const got = await exchange([binary, Buffer.from('hello 你好'), Buffer.alloc(0), biggest]);
  expect(got).toContainEqual(binary);
  expect(got).toContainEqual(Buffer.from('hello 你好'));
  expect(got).toContainEqual(Buffer.alloc(0));
  expect(got.some((g) => g.equals(biggest))).toBe(true);
});

test('a source over its datagram rate gets only its share back; the rest is dropped', async () => {
  await refill();
  const burst = Array.from({ length: 100 }, (_, i) => Buffer.from(`n${i}`));
  const got = await exchange(burst);
  expect(got.length).toBeGreaterThanOrEqual(18);
  expect(got.length).toBeLessThanOrEqual(25);
  // In order, the first ones: nothing is queued for later.
  expect(got[0]?.toString()).toBe('n0');
});

test('a source over its byte rate is cut off too, whatever port it sends from', async () => {
  await refill();
  // 100,000 bytes per second per address: one 60,000-byte datagram fits, a second does not,
  // not even from another socket (a forger can choose ports freely).
  const first = await exchange([Buffer.alloc(60_000, 1)], 100);
  const second = await exchange([Buffer.alloc(60_000, 2)], 100);
  expect(first.length).toBe(1);
  expect(second.length).toBe(0);
});

test('udp-ping prints a line per reply and a summary', async () => {
  await refill();
  // Async: the server runs in this process and must keep answering while udp-ping runs.
  const r = await run(process.execPath, [
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
  expect(r.stdout).toMatch(/^UDP-PING 127\.0\.0\.1:\d+: 100 bytes, 4 datagrams$/m);
  for (let seq = 0; seq < 4; seq++)
    expect(r.stdout).toMatch(
      new RegExp(`^100 bytes from 127\\.0\\.0\\.1:${port}: seq=${seq} time=[\\d.]+ ms$`, 'm'),
    );
  expect(r.stdout).toMatch(/^4 sent, 4 received, 0\.0% loss$/m);
  expect(r.stdout).toMatch(/^rtt min\/avg\/max\/p99 = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms$/m);
});

test('udp-ping with nothing answering: 100% loss and exit code 1', async () => {
  const closed = dgram.createSocket('udp4');
  await new Promise<void>((r) => closed.bind(0, '127.0.0.1', r));
  const silentPort = closed.address().port;
  closed.close();
  const r = await run(process.execPath, [
    CLI,
    'udp-ping',
    `127.0.0.1:${silentPort}`,
    '--count',
    '2',
    '--interval',
    '20',
    '--timeout',
    '200',
  ]).catch((e: { code: number; stdout: string }) => e);
  expect(r).toMatchObject({ code: 1 });
  expect((r as { stdout: string }).stdout).toMatch(/^2 sent, 0 received, 100\.0% loss$/m);
});

test('plugboard serve reports the udp listener in its ready file; --udp-port -1 turns it off', async () => {
  const p = await spawnServer([
    '--line-port',
    '0',
    '--framed-port',
    '0',
    '--http-port',
    '-1',
    '--irc-port',
    '-1',
    '--udp-port',
    '0',
    '--store',
    'memory',
  ]);
  expect(p.ports.udp).toMatchObject({ host: '127.0.0.1', port: expect.any(Number) as number });
  expect(p.ports.framed).toMatchObject({ host: '127.0.0.1' });
  const ping = await run(process.execPath, [
    CLI,
    'udp-ping',
    `127.0.0.1:${p.ports.udp!.port}`,
    '--count',
    '1',
  ]);
  expect(ping.stdout).toMatch(/1 sent, 1 received/);
  p.child.kill('SIGTERM');
  await p.exited;
  const off = await spawnServer([
    '--line-port',
    '0',
    '--framed-port',
    '0',
    '--http-port',
    '-1',
    '--irc-port',
    '-1',
    '--udp-port',
    '-1',
    '--store',
    'memory',
  ]);
  expect(off.ports.udp).toBeUndefined();
  off.child.kill('SIGTERM');
  await off.exited;
});
