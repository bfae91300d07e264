/**
 * DNS rebinding: a page from http://evil.example:PORT whose name now resolves to this
 * server sends Origin and Host that agree. Raw handshakes, so every header is exactly as
 * a browser would send it (test/e2e/ws-rebinding.test.ts does it with Chromium).
 */
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { portOf, startTestServer } from '../../helpers/server.js';
import type { RunningServer } from '../../../src/server.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function start(extra: string[] = []): Promise<number> {
  const s = await startTestServer(['--http-port', '0', ...extra]);
  servers.push(s);
  return portOf(s, 'http');
}

/** The status line of a WebSocket handshake with these Host and Origin headers. */
function handshake(port: number, host: string, origin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
          (origin ? `Origin: ${origin}\r\n` : '') +
          '\r\n',
      ),
    );
    let out = '';
    socket.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      const end = out.indexOf('\r\n');
      if (end >= 0) {
        socket.destroy();
        resolve(out.slice(0, end));
      }
    });
    socket.on('error', reject);
  });
}

describe('WebSocket Origin and Host', () => {
  test('a rebinding page (Origin and Host both evil.example) is refused', async () => {
    const port = await start();
    const evil = `evil.example:${port}`;
    expect(await handshake(port, evil, `http://${evil}`)).toBe('HTTP/1.1 403 Forbidden');
  });

  test('pages from an IP literal, localhost, or no Origin at all (not a browser) pass', async () => {
    const port = await start();
    const ok = 'HTTP/1.1 101 Switching Protocols';
    expect(await handshake(port, `127.0.0.1:${port}`, `http://127.0.0.1:${port}`)).toBe(ok);
    expect(await handshake(port, `localhost:${port}`, `http://localhost:${port}`)).toBe(ok);
    expect(await handshake(port, `[::1]:${port}`, `http://[::1]:${port}`)).toBe(ok);
    expect(await handshake(port, `evil.example:${port}`)).toBe(ok);
  });

  test('--public-host names the server; --ws-origin is still the explicit allow-list', async () => {
    const named = await start(['--public-host', 'chat.example.org']);
    const host = `chat.example.org:${named}`;
    expect(await handshake(named, host, `http://${host}`)).toBe('HTTP/1.1 101 Switching Protocols');
    const other = `evil.example:${named}`;
    expect(await handshake(named, other, `http://${other}`)).toBe('HTTP/1.1 403 Forbidden');
    const listed = await start(['--ws-origin', 'https://app.example.net']);
    expect(await handshake(listed, 'anything', 'https://app.example.net')).toBe(
      'HTTP/1.1 101 Switching Protocols',
    );
  });
});
