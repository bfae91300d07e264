import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildWeb } from '../../helpers/web-build.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import { WsClient } from '../../helpers/ws-client.js';
import type { RunningServer } from '../../../src/server.js';

/** A request exactly as written: fetch would normalise "/../" away before sending it. */
function rawGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
    );
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

describe('HTTP listener', () => {
  let server: RunningServer;
  let base: string;
  let port: number;
  beforeAll(async () => {
    buildWeb();
    server = await startTestServer(['--http-port', '0', '--flood-rate', '0']);
    port = portOf(server, 'http');
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => server.close());

  test('the ready addresses include http', () => {
    expect(server.addresses().http).toEqual({ host: '127.0.0.1', port });
  });

  test('serves the web client with content types, caching and security headers', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toMatch(/<script type="module" src="app.js">/);
    const etag = page.headers.get('etag');
    expect(etag).toBeTruthy();
    const again = await fetch(`${base}/`, { headers: { 'If-None-Match': etag ?? '' } });
    expect(again.status).toBe(304);

    const js = await fetch(`${base}/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const css = await fetch(`${base}/styles.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const head = await fetch(`${base}/app.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(1000);
    expect((await fetch(`${base}/nope.js`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
  });

  test('no way out of web/dist', async () => {
    for (const path of [
      '/../package.json',
      '/../../package.json',
      '/%2e%2e/package.json',
      '/..%2fpackage.json',
      '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/..\\package.json',
      '/app.js%00.html',
      '/%E0%A4%A',
    ]) {
      const res = await rawGet(port, path);
      expect(res, path).toMatch(/^HTTP\/1\.1 (400|404)/);
      expect(res, path).not.toMatch(/"name": "plugboard"/);
    }
  });

  test('/healthz is liveness; /readyz and /healthz?ready check the store and the bus', async () => {
    const live = await fetch(`${base}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      store: true,
      bus: true,
      accepting: true,
    });
    const store = server.hub.store;
    const healthy = store.healthy.bind(store);
    store.healthy = () => false;
    try {
      const sick = await fetch(`${base}/healthz?ready`);
      expect(sick.status).toBe(503);
      expect(await sick.json()).toMatchObject({ status: 'not ready', store: false });
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      store.healthy = healthy;
    }
  });

  test('/metrics speaks Prometheus and counts WebSocket traffic', async () => {
    const a = await WsClient.hello(port, 'metra');
    a.send({ type: 'say', room: '#lobby', text: 'counted' });
    await a.expect((m) => m.type === 'message');
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^plugboard_connections\{protocol="ws"\} 1$/m);
    expect(text).toMatch(/^plugboard_messages_in_total [1-9]/m);
    expect(text).toMatch(/^plugboard_deliveries_total [1-9]/m);
    expect(text).toMatch(/^plugboard_send_queue_evictions_total 0$/m);
    expect(text).toMatch(/^plugboard_flood_dropped_total 0$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
    a.close();
  });

  test('request targets in absolute form, good or bad, cost at most that request', async () => {
    // `new URL()` threw on these inside the request and upgrade handlers: the process exited.
    for (const target of ['http://a:99999/', 'http://[::1/x', 'http://x:1/healthz', '*', 'zz']) {
      const reply = await rawGet(port, target);
      expect(reply, target).toMatch(/^HTTP\/1\.1 (200|400|404) /);
    }
    expect(await rawGet(port, 'http://whatever:70000/healthz')).toMatch(/^HTTP\/1\.1 200 /);
    const upgrade = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write(
          'GET http://a:99999/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        ),
      );
      let out = '';
      socket.on('data', (d: Buffer) => {
        out += d.toString('latin1');
        if (out.includes('\r\n\r\n')) socket.destroy();
      });
      socket.on('close', () => resolve(out));
      socket.on('error', reject);
    });
    // ws checks the rest of the handshake; absolute form itself is legal (RFC 9112 3.2.2).
    expect(upgrade).toMatch(/^HTTP\/1\.1 (101|400|403) /);
    const alive = await fetch(`${base}/healthz`);
    expect(alive.status).toBe(200);
  });

  test('/ws without an upgrade says so; upgrades elsewhere are refused', async () => {
    const res = await fetch(`${base}/ws`);
    expect(res.status).toBe(426);
    const raw = await rawGet(port, '/elsewhere');
    expect(raw).toMatch(/^HTTP\/1\.1 404/);
    const upgrade = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () =>
        s.write(
          'GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        ),
      );
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString()));
      s.on('close', () => resolve(out));
    });
    expect(upgrade).toMatch(/^HTTP\/1\.1 404/);
  });
});

describe('HTTPS', () => {
  test('with --tls-cert/--tls-key the listener speaks HTTPS and WSS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plugboard-cert-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const s = await startTestServer(['--http-port', '0', '--tls-cert', cert, '--tls-key', key]);
    const port = portOf(s, 'http');
    const status = await new Promise<number>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect(status).toBe(200);
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, { rejectUnauthorized: false });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'hello', name: 'secure' }));
    await new Promise((resolve) => ws.once('message', resolve));
    expect(s.hub.find('secure')?.conn.secure).toBe(true);
    ws.terminate();
    await s.close();
  });
});
