/**
 * The framed listener over real sockets: however TCP cuts the byte stream, the server sees
 * the same frames; several frames in one write are all answered, in order.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { encodeFrame } from '../../../src/protocols/framed/codec.js';
import { RawFramedClient } from '../../helpers/framed-client.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import type { RunningServer } from '../../../src/server.js';

let server: RunningServer;
let framed: number;
beforeAll(async () => {
  server = await startTestServer(['--framed-port', '0', '--flood-rate', '0']);
  framed = portOf(server, 'framed');
});
afterAll(() => server.close());

const pause = () => new Promise((r) => setTimeout(r, 2));

test('a request split at every byte boundary, over a socket, is answered', async () => {
  const c = await RawFramedClient.hello(framed, 'splitter');
  // Multi-byte UTF-8 inside, so some cuts fall inside a character.
  const frame = encodeFrame(JSON.stringify({ type: 'ping', ref: 'é€😀' }));
  for (let cut = 1; cut < frame.length; cut++) {
    c.write(frame.subarray(0, cut));
    await pause(); // separate TCP segments, separate reads on the server
    c.write(frame.subarray(cut));
    const pong = await c.expect((m) => m.type === 'pong');
    expect(pong.ref).toBe('é€😀');
  }
  c.close();
});

test('one byte per write, and many frames in one write, arrive whole and in order', async () => {
  const c = await RawFramedClient.hello(framed, 'dribbler');
  const one = encodeFrame(JSON.stringify({ type: 'say', room: '#lobby', text: 'slow', ref: 's' }));
  for (const byte of one) {
    c.write(Buffer.from([byte]));
    await pause();
  }
  expect(await c.expect((m) => m.type === 'ok')).toMatchObject({ ref: 's' });

  const many = Buffer.concat(
    Array.from({ length: 50 }, (_, i) => encodeFrame(JSON.stringify({ type: 'ping', ref: i }))),
  );
  c.write(many);
  for (let i = 0; i < 50; i++) expect((await c.expect((m) => m.type === 'pong')).ref).toBe(i);
  c.close();
});

test('an empty frame and a non-object frame are errors; the connection stays', async () => {
  const c = await RawFramedClient.hello(framed, 'oddball');
  c.write(Buffer.from([0, 0, 0, 0]));
  expect(await c.expect((m) => m.type === 'error')).toMatchObject({ code: 'invalid_json' });
  c.write(encodeFrame('[1,2,3]'));
  expect(await c.expect((m) => m.type === 'error')).toMatchObject({ code: 'invalid_message' });
  c.write(encodeFrame('{"type":"ping","ref":"still here"}'));
  expect(await c.expect((m) => m.type === 'pong')).toMatchObject({ ref: 'still here' });
  c.close();
});
