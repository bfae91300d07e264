/**
 * Issue 15, found by the reliability suite (garbage, then descriptors not back): a static
 * file was piped into the response with `pipe`, which only unpipes when the response goes
 * away first, so every answer a client left without reading kept its file open for good
 * (two descriptors on web/dist/index.html after the soak). Now the file is closed with
 * the response.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningServer } from '../../../src/server.js';
import { portOf, startTestServer } from '../../helpers/server.js';
import { buildWeb } from '../../helpers/web-build.js';

let server: RunningServer;

beforeAll(async () => {
  buildWeb();
  server = await startTestServer(['--http-port', '0', '--flood-rate', '0']);
});

afterAll(async () => {
  await server?.close();
});

/** Descriptors of this process (the server runs in it) open on a file of web/dist. */
function webFilesOpen(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).includes('/web/dist/')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.skipIf(process.platform !== 'linux')(
  'a page whose connection goes first leaves no file open',
  async () => {
    const before = webFilesOpen();
    for (const path of ['/', '/app.js']) {
      for (let i = 0; i < 20; i++) {
        const socket = net.connect(portOf(server, 'http'), '127.0.0.1');
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('error', reject);
        });
        socket.on('error', () => {});
        socket.pause(); // never reads
        // A page, and behind it a line that is no HTTP: the server answers 400 and
        // closes while the page is still being read from disk.
        socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01 nonsense\r\n\r\n`);
        socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(i));
      }
    }
    await sleep(1000);
    let open = webFilesOpen();
    for (let i = 0; i < 40 && open > before; i++) {
      await sleep(100);
      open = webFilesOpen();
    }
    expect(open).toBe(before);
  },
);
