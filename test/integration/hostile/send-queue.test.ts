/**
 * Issue 15, the send queue belongs to the connection: whatever writes to it — fan-out,
 * replies, a history replay — counts against `--send-queue`, and:
 *
 * - a line client that asks `/history 1000` (of long messages) and never reads costs a
 *   bounded amount of the server's memory: what waits for it stays within the send queue;
 * - a JSON `history` reply larger than `--send-queue` reaches a client that reads, whole
 *   (it used to evict the client for the size of its own answer);
 * - a client evicted for not reading is told why as the last thing it reads: `* ...send
 *   queue exceeded` (line), `ERROR :... send queue exceeded` (IRC), an error message
 *   and the close reason (WebSocket).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningServer } from '../../../src/server.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import { FramedPeer, IrcPeer, LinePeer, WsPeer, type Json } from './peers.js';

/** 1,000 of these (10 MB) are more than the loopback socket buffers hold. */
const LONG = 'x'.repeat(10_000);

/**
 * Full collections, so what memory still holds can be measured (V8's own gc hook). Twice,
 * a moment apart: V8 frees ArrayBuffer memory in the background after a collection.
 */
async function collect(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  await new Promise((r) => setTimeout(r, 50));
  gc();
}

async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Stores `n` long messages in #lobby, from a framed client, and waits until all are kept. */
async function fill(server: RunningServer, n: number): Promise<void> {
  const writer = await FramedPeer.hello(portOf(server, 'framed'), 'writer');
  // In steps the writer reads its echoes between: it is bound by the send queue too.
  for (let i = 0; i < n; i++) {
    writer.send({ type: 'say', room: '#lobby', text: `${i} ${LONG}` });
    if (i % 10 === 9) await writer.barrier();
  }
  await writer.barrier();
  await until('history stored', () => writer.units.filter((u) => u.includes('"ok"')).length >= n);
  writer.close();
}

describe('history replies', () => {
  let server: RunningServer;
  const SEND_QUEUE = 65536;

  beforeAll(async () => {
    server = await startTestServer([
      '--framed-port',
      '0',
      '--http-port',
      '0',
      '--flood-rate',
      '0',
      '--history-ring',
      '2000',
      '--history-on-join',
      '0',
      '--history-page',
      '1000',
      '--max-message',
      '16000',
      '--send-queue',
      String(SEND_QUEUE),
    ]);
    await fill(server, 1000);
  });
  afterAll(() => server?.close());

  test('a line client asking /history 1000 and never reading keeps within the send queue', async () => {
    const evicted = server.hub.counters.sendQueueEvictions;
    const stuck = await LinePeer.named(portOf(server, 'line'), 'stuck');
    const session = server.hub.find('stuck');
    await collect();
    const bytesBefore = process.memoryUsage().arrayBuffers;
    stuck.socket.pause(); // reads nothing from here on: kernel buffers fill, then the queue
    stuck.send('/history 1000');
    let most = 0;
    // Watch what waits for it while the replay would run (bounded in time).
    const end = Date.now() + 1500;
    while (Date.now() < end) {
      most = Math.max(most, session?.conn.pendingBytes() ?? 0);
      await new Promise((r) => setTimeout(r, 5));
    }
    // 10 MB of history were asked for: the server holds what waits for the reader, not
    // the page (it used to hold every line of it, as bytes, until the reader read).
    await collect();
    expect(process.memoryUsage().arrayBuffers - bytesBefore).toBeLessThan(2_000_000);
    expect(most).toBeGreaterThan(0); // it did fall behind
    expect(most).toBeLessThanOrEqual(SEND_QUEUE);
    expect(server.hub.counters.sendQueueEvictions).toBe(evicted);
    // Reading again, it gets all of it, in order.
    stuck.socket.resume();
    await until('the whole replay', () => stuck.raw.includes(`999 ${LONG}`));
    const numbers = [...stuck.raw.matchAll(/<writer> (\d+) x/g)].map((m) => Number(m[1]));
    expect(numbers.length).toBeGreaterThan(0);
    expect(numbers).toEqual(numbers.map((_, i) => (numbers[0] as number) + i));
    expect(server.hub.counters.sendQueueEvictions).toBe(evicted);
    stuck.close();
  });

  test.each(['framed', 'ws'])(
    'a %s history reply larger than the send queue reaches a client that reads, whole',
    async (which) => {
      const evicted = server.hub.counters.sendQueueEvictions;
      const port = portOf(server, which === 'framed' ? 'framed' : 'http');
      const p =
        which === 'framed'
          ? await FramedPeer.hello(port, 'bigf')
          : await WsPeer.hello(port, 'bigw');
      const reply: Json = await p.request({ type: 'history', room: '#lobby', limit: 300 }, 20_000);
      expect(reply.type).toBe('history');
      const messages = reply.messages as { text: string }[];
      expect(messages.length).toBe(300);
      expect(JSON.stringify(reply).length).toBeGreaterThan(SEND_QUEUE * 10);
      expect(messages[299]?.text).toBe(`999 ${LONG}`);
      expect(p.closed).toBe(false);
      expect(server.hub.counters.sendQueueEvictions).toBe(evicted);
      p.close();
    },
  );
});

describe('an evicted reader is told why, last', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer([
      '--framed-port',
      '0',
      '--http-port',
      '0',
      '--irc-port',
      '0',
      '--flood-rate',
      '0',
      '--history-on-join',
      '0',
      '--max-message',
      '16000',
      '--send-queue',
      '16384',
    ]);
  });
  afterAll(() => server?.close());

  /** Says long messages in #lobby, a step at a time, until someone is evicted (bounded). */
  async function floodUntilEvicted(): Promise<void> {
    const before = server.hub.counters.sendQueueEvictions;
    const sender = await FramedPeer.hello(portOf(server, 'framed'), `flood${before}`);
    for (let i = 0; i < 6000 && server.hub.counters.sendQueueEvictions === before; i++) {
      sender.send({ type: 'say', room: '#lobby', text: `${i} ${LONG}` });
      if (i % 20 === 19) await sender.barrier();
    }
    await until('an eviction', () => server.hub.counters.sendQueueEvictions > before, 5000);
    sender.close();
  }

  test('line: the last line says the send queue was exceeded', async () => {
    const stuck = await LinePeer.named(portOf(server, 'line'), 'slowline');
    stuck.socket.pause();
    await floodUntilEvicted();
    stuck.socket.resume();
    await stuck.waitClosed(10_000);
    const lines = stuck.raw.split('\r\n').filter(Boolean);
    expect(lines[lines.length - 1]).toBe('* Disconnected: send queue exceeded');
  });

  test('IRC: the last line is ERROR with the reason', async () => {
    const stuck = await IrcPeer.register(portOf(server, 'irc'), 'slowirc');
    stuck.send('JOIN #lobby');
    await stuck.line(/ 366 slowirc /);
    stuck.socket.pause();
    await floodUntilEvicted();
    stuck.socket.resume();
    await stuck.waitClosed(10_000);
    const lines = stuck.raw.split('\r\n').filter(Boolean);
    expect(lines[lines.length - 1]).toMatch(/^ERROR :Closing link: .*\[send queue exceeded\]$/);
  });

  test('WebSocket: an error message, then the close reason', async () => {
    const stuck = await WsPeer.hello(portOf(server, 'http'), 'slowweb');
    stuck.ws.pause();
    await floodUntilEvicted();
    stuck.ws.resume();
    await stuck.waitClosed(10_000);
    expect(JSON.parse(stuck.units[stuck.units.length - 1] as string)).toMatchObject({
      type: 'error',
      code: 'closed',
      message: 'send queue exceeded',
    });
    expect(stuck.closeInfo).toEqual({ code: 1000, reason: 'send queue exceeded' });
  });
});
