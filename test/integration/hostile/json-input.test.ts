/**
 * Issue 15, two holes the reliability suite found in what JSON clients (framed TCP and
 * WebSocket) may send:
 *
 * - Invalid messages (not JSON, or not a valid message) bypassed flood control: each was
 *   parsed and answered as fast as it arrived and reading never paused, so 500 KB of
 *   one-byte frames cost the server 1.5 s of CPU, while 1.9 MB of pings cost 0.17 s
 *   (flood control pauses them). Now an invalid message counts like any other: past the
 *   burst it waits, past the queue it is dropped, and reading pauses meanwhile.
 * - A lone surrogate (`"\ud800"` in JSON) in a message, topic or reason reached other JSON
 *   clients as such: no character, not encodable in UTF-8, refused by strict JSON parsers.
 *   The cleaning rule now makes it U+FFFD, which line and IRC clients already received.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningServer } from '../../../src/server.js';
import { RawFramedClient } from '../../helpers/framed-client.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import { WsClient } from '../../helpers/ws-client.js';

let server: RunningServer;
let framed: number;
let http: number;
const opened: { close(): void }[] = [];

beforeAll(async () => {
  server = await startTestServer([
    '--framed-port',
    '0',
    '--http-port',
    '0',
    '--flood-burst',
    '3',
    // Slow enough that no token refills while one read's frames are handled.
    '--flood-rate',
    '1',
  ]);
  framed = portOf(server, 'framed');
  http = portOf(server, 'http');
});

afterAll(async () => {
  for (const c of opened) c.close();
  await server?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('invalid frames count against flood control like valid ones', async () => {
  const c = await RawFramedClient.connect(framed);
  opened.push({ close: () => c.socket.destroy() });
  const dropped = server.hub.counters.floodDropped;
  // 200 frames of one byte that is not JSON, in one write (so one read on the server).
  c.write(Buffer.concat(Array.from({ length: 200 }, () => Buffer.from([0, 0, 0, 1, 0x7b]))));
  await c.expect((m) => m.type === 'error' && /dropped/.test(String(m.message)));
  await sleep(300);
  const invalid = c.messages.filter((m) => m.code === 'invalid_json').length;
  // The burst (3) is answered at once; 20 more wait their turn at 1 a second; the rest
  // are dropped unanswered but for the flood notice.
  expect(invalid).toBeLessThanOrEqual(4);
  expect(c.messages.find((m) => m.code === 'flood')?.message).toMatch(/delayed/);
  expect(server.hub.counters.floodDropped - dropped).toBeGreaterThanOrEqual(170);
  // What waited is answered in order, as invalid_json, once the bucket refills.
  await c.expect((m) => m.code === 'invalid_json', 3000);
});

test('a lone surrogate from a JSON client reaches other JSON clients as U+FFFD', async () => {
  const sender = await RawFramedClient.hello(framed, 'halfpair');
  const fo = await RawFramedClient.hello(framed, 'fobserver');
  const wo = await WsClient.hello(http, 'wobserver');
  opened.push(
    { close: () => sender.socket.destroy() },
    { close: () => fo.socket.destroy() },
    { close: () => wo.close() },
  );
  for (const c of [sender, fo]) {
    c.send({ type: 'join', room: '#halves', ref: 'j' });
    await c.expect((m) => m.type === 'joined' && m.ref === 'j');
  }
  wo.send({ type: 'join', room: '#halves', ref: 'j' });
  await wo.expect((m) => m.type === 'joined' && m.ref === 'j');
  await sleep(1100); // the burst of 3 is spent on hello and join

  // JSON.stringify writes a lone surrogate as the escape \ud800: exactly what an attacker sends.
  sender.send({ type: 'say', room: '#halves', text: 'a\ud800b\udfffc\ud83d\ude00', ref: 's' });
  for (const o of [fo, wo]) {
    const m = await o.expect((x) => x.type === 'message' && x.from === 'halfpair');
    expect(m.text).toBe('a\ufffdb\ufffdc\ud83d\ude00'); // the whole pair (😀) stays
  }
  await sleep(1100);
  sender.send({ type: 'topic', room: '#halves', topic: 'top\udc00ic', ref: 't' });
  for (const o of [fo, wo]) {
    const m = await o.expect((x) => x.type === 'topic' && x.room === '#halves');
    expect(m.topic).toBe('top\ufffdic');
  }
});
