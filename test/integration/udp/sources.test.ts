/**
 * The echo's source table, over real sockets: sources are distinct loopback addresses
 * (Linux routes all of 127.0.0.0/8 to lo), standing in for forged ones.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { portOf, startTestServer } from '../../helpers/server.js';
import type { RunningServer } from '../../../src/server.js';

let server: RunningServer;
let port: number;
beforeAll(async () => {
  server = await startTestServer(['--udp-port', '0', '--udp-max-sources', '8', '--http-port', '0']);
  port = portOf(server, 'udp');
});
afterAll(() => server.close());

/** Sends one datagram from `address`; resolves true if it came back within 300 ms. */
function echoFrom(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    let got = false;
    socket.on('message', () => (got = true));
    socket.bind(0, address, () => {
      socket.send(Buffer.from(`from ${address}`), port, '127.0.0.1');
      setTimeout(() => {
        socket.close();
        resolve(got);
      }, 300);
    });
  });
}

test('a table filled by other sources does not lock a new source out', async () => {
  const fillers = Array.from({ length: 8 }, (_, i) => `127.0.0.${10 + i}`);
  expect(await Promise.all(fillers.map(echoFrom))).toEqual(fillers.map(() => true));
  expect(server.transport.udp?.sources).toBe(8);
  // Well before the 10 s sweep: the fillers went quiet, a newcomer takes an idle place.
  expect(await echoFrom('127.0.0.99')).toBe(true);
  expect(server.transport.udp?.evicted).toBe(1);
  const body = await (await fetch(`http://127.0.0.1:${portOf(server, 'http')}/metrics`)).text();
  expect(body).toMatch(/^plugboard_udp_evicted_total 1$/m);
  expect(body).toMatch(/^plugboard_udp_sources 8$/m);
});
