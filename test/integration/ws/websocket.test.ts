import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { RawIrcClient } from '../../helpers/irc-client.js';
import { LineClient } from '../../helpers/line-client.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import { WsClient } from '../../helpers/ws-client.js';
import type { RunningServer } from '../../../src/server.js';

describe('WebSocket /ws', () => {
  let server: RunningServer;
  let http: number;
  beforeAll(async () => {
    server = await startTestServer([
      '--http-port',
      '0',
      '--irc-port',
      '0',
      '--flood-rate',
      '0',
      '--max-frame',
      '1024',
    ]);
    http = portOf(server, 'http');
  });
  afterAll(() => server.close());

  test('hello → welcome, then a message round trip with its ref', async () => {
    const c = await WsClient.open(http);
    c.send({ type: 'hello', name: 'wendy', ref: 'h' });
    expect(await c.expect((m) => m.type === 'welcome')).toMatchObject({
      name: 'wendy',
      ref: 'h',
      server: 'test.plugboard',
    });
    const joined = await c.expect((m) => m.type === 'joined');
    expect(joined).toMatchObject({ room: '#lobby', name: 'wendy' });
    c.send({ type: 'say', room: '#lobby', text: 'hi', ref: 1 });
    const echo = await c.expect((m) => m.type === 'message');
    const ok = await c.expect((m) => m.type === 'ok');
    expect(ok).toMatchObject({ ref: 1, id: echo.id });
    expect(server.hub.counters.byProtocol.get('ws')).toBe(1);
    c.close();
  });

  test('schema errors get a clear error and the connection stays', async () => {
    const c = await WsClient.hello(http, 'sam');
    c.ws.send('{not json');
    expect(await c.expect((m) => m.type === 'error')).toMatchObject({ code: 'invalid_json' });
    c.send({ type: 'say', room: '#lobby', ref: 'x' });
    const err = await c.expect((m) => m.type === 'error');
    expect(err).toMatchObject({ code: 'invalid_message', ref: 'x' });
    expect(String(err.message)).toMatch(/text/);
    c.send({ type: 'launch-missiles' });
    expect(await c.expect((m) => m.type === 'error')).toMatchObject({ code: 'invalid_message' });
    c.send({ type: 'ping', ref: 9 });
    expect(await c.expect((m) => m.type === 'pong')).toEqual({ type: 'pong', ref: 9 });
    c.close();
  });

  test('a message over --max-frame closes with 1009; the others carry on', async () => {
    const big = await WsClient.hello(http, 'bigmouth');
    const other = await WsClient.hello(http, 'quiet');
    big.send({ type: 'say', room: '#lobby', text: 'x'.repeat(2000) });
    const closed = await big.closed;
    expect(closed.code).toBe(1009);
    const quit = await other.expect((m) => m.type === 'quit' && m.name === 'bigmouth');
    expect(quit.reason).toBe('message too large');
    other.send({ type: 'ping', ref: 1 });
    await other.expect((m) => m.type === 'pong');
    other.close();
  });

  test('invalid UTF-8 in a text message closes with 1007', async () => {
    const c = await WsClient.hello(http, 'mangled');
    c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await c.closed).code).toBe(1007);
  });

  test('binary messages are refused with 1003', async () => {
    const c = await WsClient.hello(http, 'binny');
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await c.closed).code).toBe(1003);
  });

  test('Origin: same host passes, another site is refused with 403', async () => {
    const same = await WsClient.open(http, { origin: `http://127.0.0.1:${http}` });
    same.close();
    await expect(WsClient.open(http, { origin: 'https://evil.example' })).rejects.toThrow(/403/);
    await expect(WsClient.open(http, { origin: 'null' })).rejects.toThrow(/403/);
  });

  test('cross-protocol: WebSocket, nc line client and IRC share a room', async () => {
    const ws = await WsClient.hello(http, 'webby');
    const nc = await LineClient.named(portOf(server, 'line'), 'netty');
    const irc = await RawIrcClient.register(portOf(server, 'irc'), 'ircy');
    irc.send('JOIN #lobby');
    await irc.expect(/ 366 /);
    await ws.expect((m) => m.type === 'joined' && m.name === 'ircy');

    ws.send({ type: 'say', room: '#lobby', text: 'from the browser' });
    await nc.expect(/<webby> from the browser/);
    await irc.expect(/^:webby!\S+ PRIVMSG #lobby :from the browser$/);

    nc.send('from netcat');
    await ws.expect((m) => m.type === 'message' && m.from === 'netty' && m.text === 'from netcat');
    await irc.expect(/PRIVMSG #lobby :from netcat/);

    irc.send('PRIVMSG #lobby :\x01ACTION waves from IRC\x01');
    await ws.expect((m) => m.type === 'message' && m.kind === 'me' && m.text === 'waves from IRC');
    await nc.expect(/\* ircy waves from IRC/);

    irc.send('PRIVMSG webby :psst');
    expect(await ws.expect((m) => m.type === 'dm')).toMatchObject({
      from: 'ircy',
      to: 'webby',
      text: 'psst',
    });
    ws.close();
    nc.close();
    irc.close();
  });

  test('a WebSocket reader that stops reading is evicted; the others keep receiving', async () => {
    const s = await startTestServer([
      '--http-port',
      '0',
      '--flood-rate',
      '0',
      '--send-queue',
      '65536',
    ]);
    const port = portOf(s, 'http');
    const sender = await LineClient.named(portOf(s, 'line'), 'sender');
    const reader = await WsClient.hello(port, 'reader');
    const stuck = await WsClient.hello(port, 'stuck');
    stuck.ws.pause(); // stop reading: kernel buffers fill, then bufferedAmount grows
    let received = 0;
    reader.ws.on('message', () => received++);
    const total = 3000;
    const text = 'z'.repeat(3900);
    // Every byte waiting for a reader counts, this turn's too: a reader in this very
    // process reads only between the server's turns, so the sender pauses for a turn
    // every few messages (a reader elsewhere reads while the server works).
    for (let i = 0; i < total; i++) {
      sender.send(`${i} ${text}`);
      if (i % 8 === 7) await new Promise((r) => setImmediate(r));
    }
    await sender.expect(/^\* stuck left \(send queue exceeded\)$/, 20_000);
    const deadline = Date.now() + 20_000;
    while (received < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(received).toBeGreaterThanOrEqual(total);
    expect(s.hub.counters.sendQueueEvictions).toBe(1);
    expect(s.hub.find('stuck')).toBeUndefined();
    sender.close();
    reader.close();
    stuck.close();
    await s.close();
  });

  test('admission: a refused connection reads why and is closed with 1013', async () => {
    const s = await startTestServer(['--http-port', '0', '--max-connections', '1']);
    const port = portOf(s, 'http');
    const first = await WsClient.hello(port, 'first');
    const second = await WsClient.open(port);
    expect(await second.expect((m) => m.type === 'error')).toMatchObject({
      code: 'refused',
      message: 'server full',
    });
    expect((await second.closed).code).toBe(1013);
    expect(s.hub.counters.connectionsRefused).toBe(1);
    first.close();
    await s.close();
  });

  test('shutdown: the client reads the reason, then 1001 "going away"', async () => {
    const s = await startTestServer(['--http-port', '0']);
    const c = await WsClient.hello(portOf(s, 'http'), 'leaver');
    const closing = s.close('maintenance');
    const bye = await c.expect((m) => m.type === 'shutdown');
    // With the session's resume token (issue 14): its name and rooms back after the restart.
    expect(bye).toEqual({ type: 'shutdown', reason: 'maintenance', token: expect.any(String) });
    expect((await c.closed).code).toBe(1001);
    await closing;
  });
});

describe('WebSocket flood control', () => {
  test(
    'one burst past the bucket: some answered, some delayed, the rest dropped',
    { timeout: 30_000 },
    async () => {
      const s = await startTestServer([
        '--http-port',
        '0',
        '--flood-burst',
        '3',
        // Slow enough that no token refills while the 40 frames are read (a loaded machine
        // took over 20 ms at 50/s), fast enough that the 20 waiting ones run in 4 s.
        '--flood-rate',
        '5',
      ]);
      const c = await WsClient.hello(portOf(s, 'http'), 'gusher');
      // All 40 frames in one write, so they arrive in one read: the bucket (3, less the
      // hello) runs at once, 20 wait their turn, the rest are dropped.
      const socket = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
      socket.cork();
      for (let i = 0; i < 40; i++) c.send({ type: 'ping', ref: i });
      socket.uncork();
      const delayed = await c.expect(
        (m) => m.type === 'error' && /delayed/.test(String(m.message)),
      );
      expect(delayed).toMatchObject({ code: 'flood' });
      await c.expect((m) => m.type === 'error' && /dropped/.test(String(m.message)));
      // What waited is answered, in order, once the bucket refills; the session carries on.
      await c.expect((m) => m.type === 'pong' && m.ref === 21, 15_000);
      const pongs = c.messages.filter((m) => m.type === 'pong').map((m) => m.ref);
      expect(pongs).toEqual(Array.from({ length: 22 }, (_, i) => i));
      expect(s.hub.counters.floodDelayed).toBe(1);
      expect(s.hub.counters.floodDropped).toBe(18);
      c.send({ type: 'ping', ref: 'after' });
      await c.expect((m) => m.type === 'pong' && m.ref === 'after');
      c.close();
      await s.close();
    },
  );
});

describe('WebSocket Origin allow-list and keepalive', () => {
  test('--ws-origin admits only the listed origins', async () => {
    const s = await startTestServer([
      '--http-port',
      '0',
      '--ws-origin',
      'https://chat.example.org',
    ]);
    const port = portOf(s, 'http');
    const ok = await WsClient.open(port, { origin: 'https://chat.example.org' });
    ok.close();
    await expect(WsClient.open(port, { origin: `http://127.0.0.1:${port}` })).rejects.toThrow(
      /403/,
    );
    await s.close();
  });

  test('a peer that stops answering pings is closed ("ping timeout")', async () => {
    const { listenWeb } = await import('../../../src/web-listener.js');
    const { testConfig } = await import('../../helpers/server.js');
    const { createTransports } = await import('../../../src/server.js');
    const s = await startTestServer();
    const config = testConfig(['--http-port', '0']);
    const t = createTransports(config, s.hub, s.hub.log);
    const web = await listenWeb(config, s.hub, {
      gate: t.gate,
      admission: t.http,
      linger: t.linger,
      transport: t.stats,
      onError: () => {},
      keepaliveMs: 100,
    });
    const line = await LineClient.named(portOf(s, 'line'), 'watcher');
    const mute = new WebSocket(`ws://127.0.0.1:${web.port}/ws`, { autoPong: false });
    await new Promise((r) => mute.once('open', r));
    mute.send(JSON.stringify({ type: 'hello', name: 'mute' }));
    const alive = await WsClient.hello(web.port, 'alive'); // answers pings by itself
    await line.expect(/^\* mute left \(ping timeout\)$/, 3000);
    await new Promise((r) => setTimeout(r, 300));
    expect(s.hub.find('alive')).toBeDefined();
    alive.close();
    mute.terminate();
    line.close();
    await web.close();
    await s.close();
  });
});
