/**
 * IRC keepalive: after a quiet spell the server sends PING; a client that answers stays,
 * one that says nothing is closed with "Ping timeout". Runs from the hub's sweep.
 */
import net from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { RawIrcClient } from '../helpers/irc-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

let server: RunningServer;
let irc: number;

beforeAll(async () => {
  server = await startTestServer(['--irc-port', '0', '--flood-rate', '0']);
  server.hub.options.pingIntervalMs = 1000;
  server.hub.options.pingTimeoutMs = 1000;
  irc = portOf(server, 'irc');
});
afterAll(() => server.close());

test('a silent client is pinged, then closed with Ping timeout; one that answers stays', async () => {
  const answering = await RawIrcClient.register(irc, 'ponger');
  const silent = net.connect(irc, '127.0.0.1');
  let text = '';
  silent.on('data', (d: Buffer) => (text += d.toString()));
  const closed = new Promise<void>((resolve) => silent.on('close', () => resolve()));
  silent.write('NICK quiet\r\nUSER quiet 0 * :quiet\r\n');
  await closed;
  expect(text).toMatch(/ 001 quiet /);
  expect(text).toMatch(/^PING :\S+\r$/m);
  expect(text).toMatch(/^ERROR :.*Ping timeout/m);
  // The answering client was pinged too (it replies PONG itself) and is still here.
  await answering.expect(/PING/);
  answering.send('PING :still-here');
  await answering.expect(/PONG .*still-here/);
  expect(server.hub.find('ponger')).toBeTruthy();
  expect(server.hub.find('quiet')).toBeFalsy();
});
