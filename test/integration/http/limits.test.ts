/**
 * The HTTP listener's own limits: connections per address and in all (counted until each
 * socket closes; WebSocket sessions move to the chat limits), and the timeouts that stop
 * slowloris clients and idle keep-alive connections from holding descriptors.
 */
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { portOf, startTestServer } from '../../helpers/server.js';
import { WsClient } from '../../helpers/ws-client.js';
import type { RunningServer } from '../../../src/server.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function start(extra: string[]): Promise<RunningServer> {
  const s = await startTestServer(['--http-port', '0', ...extra]);
  servers.push(s);
  return s;
}

/** An open HTTP connection that has sent nothing yet. */
function idle(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

/** One request on a fresh connection; resolves with the whole response once it closes. */
function get(port: number, path = '/healthz'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
    );
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

function closed(socket: net.Socket): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    if (socket.destroyed) resolve(0);
    socket.on('error', () => {});
    socket.on('close', () => resolve(Date.now() - t0));
  });
}

async function metric(port: number, name: string): Promise<number> {
  const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

describe('HTTP connection limits', () => {
  test('per address: past --http-max-per-ip a connection is answered 503, counted until close', async () => {
    const s = await start(['--http-max-per-ip', '2', '--limit-exempt', 'none']);
    const port = portOf(s, 'http');
    const held = [await idle(port), await idle(port)];
    const third = await get(port);
    expect(third).toMatch(/^HTTP\/1\.1 503 /);
    expect(third).toContain('too many HTTP connections from your address');
    expect(third).toMatch(/Retry-After: 5/i);
    held[0]!.destroy();
    await closed(held[0]!);
    await new Promise((r) => setTimeout(r, 50));
    expect(await get(port)).toMatch(/^HTTP\/1\.1 200 /);
    held[1]!.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(await metric(port, 'plugboard_http_refused_per_address_total')).toBe(1);
  });

  test('in all: past --http-max-connections, whatever the address', async () => {
    const s = await start(['--http-max-connections', '2']);
    const port = portOf(s, 'http');
    const held = [await idle(port), await idle(port)];
    const refused = await get(port);
    expect(refused).toMatch(/^HTTP\/1\.1 503 /);
    expect(refused).toContain('the server has too many HTTP connections');
    for (const h of held) h.destroy();
    await Promise.all(held.map(closed));
    await new Promise((r) => setTimeout(r, 50));
    expect(await get(port)).toMatch(/^HTTP\/1\.1 200 /);
    expect(s.transport.http?.total).toBe(0);
  });

  test('WebSocket sessions count as chat connections, not against the HTTP limits', async () => {
    const s = await start(['--http-max-connections', '1']);
    const port = portOf(s, 'http');
    // One at a time: the handshake itself is an HTTP request, counted as one until upgraded.
    const sessions: WsClient[] = [];
    for (const n of ['w1', 'w2', 'w3']) sessions.push(await WsClient.hello(port, n));
    expect(s.transport.chat.total).toBe(3);
    expect(s.transport.http?.total).toBe(0);
    expect(await get(port)).toMatch(/^HTTP\/1\.1 200 /);
    for (const c of sessions) c.close();
  });
});

describe('HTTP timeouts', () => {
  test('slowloris: headers trickling in are cut off at --http-headers-timeout (408)', async () => {
    const s = await start(['--http-headers-timeout', '1', '--http-request-timeout', '2']);
    const socket = await idle(portOf(s, 'http'));
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const trickle = setInterval(() => socket.writable && socket.write('X-a: b\r\n'), 200);
    const ms = await closed(socket);
    clearInterval(trickle);
    expect(out).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeLessThan(3500);
  });

  test('an idle keep-alive connection is closed after --http-keepalive-timeout', async () => {
    const s = await start(['--http-keepalive-timeout', '1']);
    const socket = await idle(portOf(s, 'http'));
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const ms = await closed(socket);
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    // Not before the timeout (how long after it depends on the machine's load: not asserted).
    expect(ms).toBeGreaterThan(800);
  });
});
