import net from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FramedClient, RequestError } from '../../../src/client/framed-client.js';
import type { ServerMessage } from '../../../src/protocols/json/schema.js';
import { LineClient } from '../../helpers/line-client.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import type { RunningServer } from '../../../src/server.js';

let server: RunningServer;
let framed: number;
let line: number;
beforeAll(async () => {
  server = await startTestServer(['--framed-port', '0', '--flood-rate', '0']);
  framed = portOf(server, 'framed');
  line = portOf(server, 'line');
});
afterAll(() => server.close());

function next<T extends ServerMessage['type']>(
  c: FramedClient,
  type: T,
  pred: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true,
): Promise<Extract<ServerMessage, { type: T }>> {
  return new Promise((resolve) => {
    const on = (m: Extract<ServerMessage, { type: T }>) => {
      if (!pred(m)) return;
      c.off(type === 'error' ? 'server-error' : type, on);
      resolve(m);
    };
    c.on(type === 'error' ? 'server-error' : type, on);
  });
}

test('request resolves with the reply carrying its ref; events arrive by type', async () => {
  const c = await FramedClient.connect('127.0.0.1', framed);
  const joined = next(c, 'joined');
  const welcome = await c.request({ type: 'hello', name: 'libby' });
  expect(welcome).toMatchObject({ type: 'welcome', name: 'libby', ref: 'c1' });
  expect(await joined).toMatchObject({ room: '#lobby', name: 'libby' });

  // Several requests in flight resolve each with its own reply, whatever the order.
  const [pong, who, ok] = await Promise.all([
    c.request({ type: 'ping' }),
    c.request({ type: 'who', room: '#lobby' }),
    c.request({ type: 'say', room: '#lobby', text: 'from the library' }),
  ]);
  expect(pong.type).toBe('pong');
  expect(who).toMatchObject({ type: 'who', room: '#lobby' });
  expect(ok).toMatchObject({ type: 'ok' });

  // A server error rejects with its code and is also emitted as 'server-error'.
  const emitted = next(c, 'error');
  const err = await c.request({ type: 'join', room: '#bad room' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RequestError);
  expect((err as RequestError).code).toBe('room_invalid');
  expect((await emitted).code).toBe('room_invalid');
  expect(c.waiting).toBe(0);
  c.close();
});

test('a bot and a line client talk', async () => {
  const bot = await FramedClient.connect('127.0.0.1', framed);
  await bot.request({ type: 'hello', name: 'botty' });
  const human = await LineClient.named(line, 'hugo');
  const heard = next(bot, 'message', (m) => m.from === 'hugo');
  human.send('hello bot');
  expect((await heard).text).toBe('hello bot');
  await bot.request({ type: 'say', room: '#lobby', text: 'hello hugo' });
  await human.expect(/<botty> hello hugo$/);
  human.close();
  bot.close();
});

test('requests pending when the connection drops are rejected; later ones too', async () => {
  const c = await FramedClient.connect('127.0.0.1', framed);
  await c.request({ type: 'hello', name: 'dropper' });
  const closed = new Promise((r) => c.once('close', r));
  const quit = c.request({ type: 'quit' });
  await quit; // the server acknowledges a quit before it closes
  await closed;
  await expect(c.request({ type: 'ping' })).rejects.toThrow('Disconnected from server');
});

test('a refused connection reads well', async () => {
  // (The timeout path is covered by the terminal client against a silent server.)
  await expect(FramedClient.connect('127.0.0.1', 1)).rejects.toThrow('connection refused');
});

test('a server that is not framed (the line port) is reported, not waited on forever', async () => {
  const c = await FramedClient.connect('127.0.0.1', line);
  const err = await new Promise<Error>((r) => c.once('protocol-error', r));
  expect(err.message).toMatch(/not a Plugboard framed server/);
  await new Promise((r) => (c.closed ? r(null) : c.once('close', r)));
});

test('a silent server: the request stays pending until the caller gives up', async () => {
  const silent = net.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as net.AddressInfo).port;
  const c = await FramedClient.connect('127.0.0.1', port);
  let settled = false;
  void c.request({ type: 'hello', name: 'x' }).then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((r) => setTimeout(r, 100));
  expect(settled).toBe(false);
  expect(c.waiting).toBe(1);
  c.close();
  await new Promise((r) => c.once('close', r));
  expect(settled).toBe(true);
  silent.close();
});
