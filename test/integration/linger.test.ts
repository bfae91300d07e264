/**
 * Every socket the server closes is released, even when the peer never closes its side:
 * the server half-closes, lingers, then destroys the socket (src/transports/linger.ts).
 * The peers here are raw sockets with allowHalfOpen, which is what an attacker holding
 * descriptors does: read the server's FIN and never answer it.
 *
 * Seen from the peer, a destroyed server socket is one that answers the next byte with a
 * reset (the kernel has no open socket for it any more, RFC 1122 §4.2.2.13); a
 * half-closed one still takes it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../../src/server.js';
import { silentLogger } from '../../src/core/ports.js';
import { encodeFrame } from '../../src/protocols/framed/codec.js';
import { portOf, testConfig } from '../helpers/server.js';

const LINGER = 300;

const servers: RunningServer[] = [];
const dataDirs = new Map<RunningServer, string>();
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(extra: string[] = [], lingerMs = LINGER): Promise<RunningServer> {
  const config = testConfig(extra);
  config.closeLingerMs = lingerMs;
  const s = await startServer(config, silentLogger);
  servers.push(s);
  dataDirs.set(s, config.dataDir);
  return s;
}

/** A peer that reads everything and never closes its side unless told to. */
class Peer {
  text = '';
  ended = false;
  closed = false;
  private readonly onClose: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => (this.text += d.toString('latin1')));
    socket.on('end', () => (this.ended = true));
    socket.on('error', () => {});
    this.onClose = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  static connect(port: number, path?: string): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const socket = path
        ? net.connect({ path, allowHalfOpen: true })
        : net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      socket.once('connect', () => resolve(new Peer(socket)));
      socket.once('error', reject);
    });
  }

  async waitFor(what: string | RegExp, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const seen = () => (typeof what === 'string' ? this.text.includes(what) : what.test(this.text));
    while (!seen()) {
      if (Date.now() > deadline)
        throw new Error(`no ${String(what)} in ${JSON.stringify(this.text)}`);
      await sleep(10);
    }
  }

  /**
   * True once the server has let go of the socket: it closed it outright, or (after
   * half-closing) it answers a byte with a reset. Waits the linger and a margin first.
   */
  async released(lingerMs = LINGER): Promise<boolean> {
    await sleep(lingerMs + 300);
    if (this.closed) return true;
    // The first byte draws the reset; the peer has stopped reading (it saw our FIN), so
    // only its next write reports it (EPIPE or ECONNRESET) and closes the socket.
    this.socket.write('x\n');
    await sleep(100);
    if (!this.closed) this.socket.write('y\n');
    await Promise.race([this.onClose, sleep(1000)]);
    return this.closed;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The WebSocket handshake by hand, so the peer can then ignore the closing handshake. */
function upgrade(peer: Peer, port: number, headers: Record<string, string> = {}): void {
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  peer.socket.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
  );
}

/** A masked client text frame (RFC 6455 §5.2), short payloads only. */
function wsText(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

describe('server-side closes release the descriptor when the peer never closes', () => {
  test('line protocol: /quit', async () => {
    const s = await start();
    const peer = await Peer.connect(portOf(s, 'line'));
    await peer.waitFor('Choose a name: ');
    peer.socket.write('quitter\n');
    await peer.waitFor('Welcome, quitter');
    peer.socket.write('/quit bye\n');
    await peer.waitFor('* Disconnected: ');
    expect(await peer.released()).toBe(true);
    expect(s.transport.linger.expired).toBe(1);
    expect(s.transport.chat.total).toBe(0);
  });

  test('registration timeout and a kick from the admin console', async () => {
    const s = await start(['--registration-timeout', '1']);
    const port = portOf(s, 'line');
    const slow = await Peer.connect(port);
    const kicked = await Peer.connect(port);
    await kicked.waitFor('Choose a name: ');
    kicked.socket.write('target\n');
    await kicked.waitFor('Welcome, target');
    const target = s.hub.find('target');
    expect(target).toBeDefined();
    s.hub.disconnect(target!, 'kicked by the server operator');
    await slow.waitFor('registration timeout', 3000);
    const released = await Promise.all([slow.released(), kicked.released()]);
    expect(released).toEqual([true, true]);
  });

  test('framed protocol: an oversize frame', async () => {
    const s = await start(['--framed-port', '0', '--max-frame', '256']);
    const peer = await Peer.connect(portOf(s, 'framed'));
    peer.socket.write(
      encodeFrame(JSON.stringify({ type: 'hello', name: 'big', pad: 'x'.repeat(1000) })),
    );
    await peer.waitFor('limit; closing');
    expect(await peer.released()).toBe(true);
  });

  test('IRC: QUIT', async () => {
    const s = await start(['--irc-port', '0']);
    const peer = await Peer.connect(portOf(s, 'irc'));
    peer.socket.write('NICK ircq\r\nUSER ircq 0 * :q\r\n');
    await peer.waitFor(' 001 ');
    peer.socket.write('QUIT :done\r\n');
    await peer.waitFor('ERROR');
    expect(await peer.released()).toBe(true);
  });

  test('a refused connection, even one that keeps sending (an idle timeout would wait)', async () => {
    const s = await start(['--max-connections', '1']);
    const port = portOf(s, 'line');
    const first = await Peer.connect(port);
    await first.waitFor('Choose a name: ');
    const refused = await Peer.connect(port);
    await refused.waitFor('Connection refused: server full');
    // A trickle of bytes kept the old idle timer (socket.setTimeout) from ever firing.
    const trickle = setInterval(() => refused.socket.write('.'), 100);
    await sleep(LINGER + 300);
    clearInterval(trickle);
    expect(await refused.released()).toBe(true);
    first.socket.destroy();
  });

  test('at most 64 refusals linger at once; past that a refusal is written and closed at once', async () => {
    // A linger long enough that no early refusal ends before the 70th connects on a slow
    // machine (CI took over 300 ms to open 70 one after another).
    const s = await start(['--max-connections', '1'], 3000);
    const port = portOf(s, 'line');
    const holder = await Peer.connect(port);
    await holder.waitFor('Choose a name: ');
    const refused: Peer[] = [];
    for (let i = 0; i < 70; i++) refused.push(await Peer.connect(port));
    for (const p of refused) await p.waitFor('Connection refused: server full');
    expect(s.transport.linger.refusing).toBe(64);
    expect(s.transport.linger.refusedAtOnce).toBe(6);
    expect((await Promise.all(refused.map((p) => p.released(3000)))).every(Boolean)).toBe(true);
    expect(s.transport.linger.refusing).toBe(0);
    holder.socket.destroy();
  });

  test('the chat limits count a socket until its descriptor is closed', async () => {
    const s = await start(['--max-per-ip', '1', '--limit-exempt', 'none']);
    const port = portOf(s, 'line');
    const a = await Peer.connect(port);
    await a.waitFor('Choose a name: ');
    a.socket.write('holder\n/quit\n');
    await a.waitFor('* Disconnected: ');
    // The session is over but the socket is still open: still counted.
    const b = await Peer.connect(port);
    await b.waitFor('too many connections from your address');
    expect(await a.released()).toBe(true);
    const c = await Peer.connect(port);
    await c.waitFor('Choose a name: ');
    expect(s.transport.chat.heldBy('127.0.0.1')).toBe(1);
    c.socket.destroy();
  });
});

describe('WebSocket: no 30 s wait for a closing handshake the peer never answers', () => {
  test('a session the server ends', async () => {
    const s = await start(['--http-port', '0']);
    const port = portOf(s, 'http');
    const peer = await Peer.connect(port);
    upgrade(peer, port);
    await peer.waitFor('101 Switching Protocols');
    peer.socket.write(wsText(JSON.stringify({ type: 'hello', name: 'wsq' })));
    await peer.waitFor('welcome');
    s.hub.disconnect(s.hub.find('wsq')!, 'kicked');
    // ws would now wait 30 s for our close frame before destroying the socket.
    expect(await peer.released()).toBe(true);
    expect(s.transport.chat.total).toBe(0);
  });

  test('a session refused by admission (1013)', async () => {
    const s = await start(['--http-port', '0', '--max-connections', '1']);
    const port = portOf(s, 'http');
    const holder = await Peer.connect(portOf(s, 'line'));
    await holder.waitFor('Choose a name: ');
    const peer = await Peer.connect(port);
    upgrade(peer, port);
    await peer.waitFor('server full');
    expect(await peer.released()).toBe(true);
    holder.socket.destroy();
  });
});

describe('HTTP and admin error replies linger, never longer', () => {
  test('HTTP 400, a refused Origin (403), a WebSocket upgrade elsewhere (404)', async () => {
    const s = await start(['--http-port', '0']);
    const port = portOf(s, 'http');
    const bad = await Peer.connect(port);
    bad.socket.write('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    await bad.waitFor('400 Bad Request');
    const origin = await Peer.connect(port);
    upgrade(origin, port, { Origin: 'https://evil.example' });
    await origin.waitFor('403 Forbidden');
    const elsewhere = await Peer.connect(port);
    elsewhere.socket.write(
      `GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
    );
    await elsewhere.waitFor('404 Not Found');
    expect(await Promise.all([bad, origin, elsewhere].map((p) => p.released()))).toEqual([
      true,
      true,
      true,
    ]);
  });

  test('admin socket: a line over 64 KiB gets an error and the connection is closed', async () => {
    const s = await start();
    const path = `${dataDirs.get(s)}/admin.sock`;
    const peer = await Peer.connect(0, path);
    peer.socket.write('stats\n');
    await peer.waitFor(/chat sockets \d+ of \d+/);
    peer.socket.write('say ' + 'x'.repeat(70 * 1024));
    await peer.waitFor('error: line too long (at most 65536 bytes)');
    expect(await peer.released()).toBe(true);
    expect(s.transport.adminLinesTooLong()).toBe(1);
  });
});

function selfSigned(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-cert-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ]),
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** Connects over TLS and collects text until the server closes or `ms` pass. */
function tlsText(port: number, ms = 1500): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('error', () => {});
    const done = () => {
      s.destroy();
      resolve(text);
    };
    s.on('close', done);
    setTimeout(done, ms);
  });
}

describe('TLS listeners count from accept and refuse after the handshake', () => {
  test('line over TLS: a refused client reads why; the count follows the sockets', async () => {
    const { cert, key } = selfSigned();
    const s = await start(
      ['--line-tls-port', '0', '--tls-cert', cert, '--tls-key', key].concat([
        '--max-connections',
        '1',
      ]),
    );
    const port = portOf(s, 'line-tls');
    const first = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    first.on('error', () => {});
    await new Promise((r) => first.once('data', r));
    expect(await tlsText(port)).toContain('Connection refused: server full');
    expect(s.transport.chat.total).toBe(1);
    first.destroy();
    await sleep(100);
    expect(s.transport.chat.total).toBe(0);
    expect(await tlsText(port, 500)).toContain('Choose a name');
  });
});
