import { describe, expect, test } from 'vitest';
import { RawIrcClient } from '../helpers/irc-client.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer, testConfig } from '../helpers/server.js';
import { startServer } from '../../src/server.js';
import { silentLogger } from '../../src/core/ports.js';

describe('line protocol limits', () => {
  test('shutdown tells every client, then closes them', async () => {
    const server = await startTestServer();
    const port = portOf(server, 'line');
    const clients = await Promise.all(['s1', 's2', 's3'].map((n) => LineClient.named(port, n)));
    const unregistered = await LineClient.connect(port);
    await unregistered.expect(/Choose a name/);
    await server.close();
    for (const c of [...clients, unregistered]) {
      await c.expect(/^\* server shutting down$/);
      await c.waitClosed();
    }
  });

  test('a reader that stops reading is evicted; the others keep receiving', async () => {
    const server = await startTestServer(['--flood-rate', '0', '--send-queue', '262144']);
    const port = portOf(server, 'line');
    const sender = await LineClient.named(port, 'sender');
    const reader = await LineClient.named(port, 'reader');
    const stuck = await LineClient.named(port, 'stuck');
    stuck.socket.pause(); // stop reading: the kernel buffers fill, then the server's queue
    const text = 'z'.repeat(3900);
    const total = 4000; // ~16 MB: more than the loopback socket buffers hold
    // Lines of the sender's text (not the server's notices), counted by their first byte.
    let received = 0;
    let lineStart = true;
    reader.socket.on('data', (d: Buffer) => {
      for (const b of d) {
        if (lineStart && b !== 42 /* '*' */) received++;
        lineStart = b === 10;
      }
    });
    // Sent in steps the reader keeps up with: it runs on this process's event loop, and a
    // sender with flood control off can hand the server megabytes in one turn, more than
    // any reader's kernel buffers take at once. The stuck reader falls behind step by step.
    // The deadline only ends a broken run; a loaded machine needs the time.
    const deadline = Date.now() + 60_000;
    const step = 40; // ~160 KB
    for (let sent = 0; sent < total && Date.now() < deadline;) {
      for (let k = 0; k < step && sent < total; k++) sender.send(`${sent++} ${text}`);
      while (received < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    }
    await sender.expect(/^\* stuck left \(send queue exceeded\)$/, 1000);
    // Everyone else got every line.
    expect(received).toBe(total);
    expect(server.hub.counters.sendQueueEvictions).toBe(1);
    // The server's memory for the evicted connection is gone.
    expect(server.hub.find('stuck')).toBeUndefined();
    sender.close();
    reader.close();
    stuck.close();
    await server.close();
  }, 90_000);

  test('a connection that never chooses a name is closed after the registration timeout', async () => {
    const server = await startTestServer(['--registration-timeout', '1']);
    const c = await LineClient.connect(server.listeners[0]!.port);
    await c.expect(/Choose a name/);
    await c.expect(/^\* Disconnected: registration timeout$/, 5000);
    await c.waitClosed();
    await server.close();
  });

  test('idle connections are closed after the idle timeout', async () => {
    const server = await startTestServer(['--idle-timeout', '1']);
    const c = await LineClient.named(portOf(server, 'line'), 'sleepy');
    await c.expect(/^\* Disconnected: idle timeout$/, 5000);
    await c.waitClosed();
    await server.close();
  });

  test('flood control delays a burst and tells the sender; lines arrive in order', async () => {
    const server = await startTestServer(['--flood-burst', '3', '--flood-rate', '20']);
    const port = portOf(server, 'line');
    const a = await LineClient.named(port, 'flooder');
    const b = await LineClient.named(port, 'watcher');
    for (let i = 0; i < 8; i++) a.send(`line ${i}`);
    await a.expect(/^! Flood control: you are sending too fast; your lines are delayed$/);
    for (let i = 0; i < 8; i++) await b.expect(new RegExp(`<flooder> line ${i}$`));
    expect(server.hub.counters.floodDelayed).toBeGreaterThan(0);
    a.close();
    b.close();
    await server.close();
  });

  test('flood control drops lines past its queue and says so', async () => {
    const server = await startTestServer(['--flood-burst', '1', '--flood-rate', '1']);
    const port = portOf(server, 'line');
    const a = await LineClient.named(port, 'spammer');
    a.write(Array.from({ length: 40 }, (_, i) => `spam ${i}\n`).join(''));
    await a.expect(/^! Flood control: line dropped$/);
    expect(server.hub.counters.floodDropped).toBeGreaterThan(0);
    a.close();
    await server.close();
  });

  test('connections per address and in total are limited with a clear message', async () => {
    // Loopback is exempt from the per-address limit by default (--limit-exempt).
    const server = await startTestServer(['--max-per-ip', '2', '--limit-exempt', 'none']);
    const port = portOf(server, 'line');
    const a = await LineClient.connect(port);
    const b = await LineClient.connect(port);
    const c = await LineClient.connect(port);
    await c.expect(/^! Connection refused: too many connections from your address$/);
    await c.waitClosed();
    a.close();
    b.close();
    await server.close();
    const exempt = await startTestServer(['--max-per-ip', '2', '--max-connections', '3']);
    const p = portOf(exempt, 'line');
    const held = await Promise.all([1, 2, 3].map(() => LineClient.connect(p)));
    for (const h of held) await h.expect(/Choose a name/);
    const full = await LineClient.connect(p);
    await full.expect(/^! Connection refused: server full$/);
    await full.waitClosed();
    for (const h of held) h.close();
    await exempt.close();
  });

  test('a server password is asked for before the name', async () => {
    const server = await startTestServer(['--password', 'sesame']);
    const port = portOf(server, 'line');
    const bad = await LineClient.connect(port);
    await bad.expect(/^Server password: $/);
    bad.send('nope');
    await bad.expect(/^! Wrong password$/);
    await bad.waitClosed();
    const good = await LineClient.connect(port);
    await good.expect(/^Server password: $/);
    good.send('sesame');
    await good.expect(/Choose a name/);
    good.send('insider');
    await good.expect(/Welcome, insider/);
    good.close();
    await server.close();
  });

  test('in a big room, joins and leaves arrive as a digest instead of one line each', async () => {
    const config = testConfig();
    config.options.rosterDigestThreshold = 2;
    const server = await startServer(config, silentLogger);
    const port = portOf(server, 'line');
    const first = await LineClient.named(port, 'first');
    const second = await LineClient.named(port, 'second');
    await first.expect(/^\* second joined #lobby$/); // room still small: one line
    const crowd = await Promise.all(['c1', 'c2', 'c3', 'c4'].map((n) => LineClient.named(port, n)));
    await first.expect(/^\* 4 people joined #lobby: c1, c2, c3, c4$/, 3000);
    crowd[0]!.close();
    await first.expect(/^\* c1 left #lobby$/, 3000);
    expect(first.lines.filter((l) => /^\* c\d joined/.test(l))).toEqual([]);
    for (const c of [first, second, ...crowd]) c.close();
    await server.close();
  });

  test('an IRC member of a big room still sees each join and quit; line members see digests', async () => {
    const config = testConfig(['--irc-port', '0']);
    config.options.rosterDigestThreshold = 2;
    const server = await startServer(config, silentLogger);
    const linePort = portOf(server, 'line');
    const ircPort = portOf(server, 'irc');
    const line = await LineClient.named(linePort, 'watcher');
    const others = await Promise.all(['w1', 'w2'].map((n) => LineClient.named(linePort, n)));
    const irc = await RawIrcClient.register(ircPort, 'ircwatch');
    irc.send('JOIN #lobby');
    await irc.expect(/ 366 ircwatch #lobby /);
    // The room is big now: the IRC client is told of each arrival and departure (IRC has
    // no digest), the line member of the whole group at once.
    const late = await Promise.all(['x1', 'x2', 'x3'].map((n) => LineClient.named(linePort, n)));
    for (const n of ['x1', 'x2', 'x3']) await irc.expect(new RegExp(`^:${n}!\\S+ JOIN #lobby`));
    await line.expect(/^\* \d people joined #lobby: .*x1, x2, x3$/, 3000);
    late[0]!.close();
    await irc.expect(/^:x1!\S+ QUIT /);
    // Once the IRC client leaves, line members still hear of departures (as a digest).
    irc.send('PART #lobby');
    await irc.expect(/ PART #lobby/);
    late[1]!.close();
    await line.expect(/^\* .*left #lobby.*\bx2$/, 3000);
    expect(line.lines.filter((l) => /^\* x\d joined/.test(l))).toEqual([]);
    for (const c of [line, ...others, ...late]) c.close();
    irc.close();
    await server.close();
  });
});
