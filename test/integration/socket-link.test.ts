/**
 * SocketLink over real loopback sockets: the write path that skips Node's stream (direct
 * write(2) for a turn's first bytes, gathering for the rest, the stream only for a
 * backlog) must keep order, count a slow reader's backlog, and never write to a
 * descriptor its socket no longer owns.
 */
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { countWrite } from '../../src/transports/end-of-turn.js';
import { linkKind, SocketLink } from '../../src/transports/socket-link.js';

const turnEnd = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let server: Server | null = null;
const clients: Socket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  if (server) {
    const s = server;
    server = null;
    s.close();
    await once(s, 'close');
  }
});

/** A listener whose accepted sockets come out of `next()` in order, with their client. */
async function listen(): Promise<{ next(): Promise<{ link: SocketLink; client: Socket }> }> {
  const accepted: Socket[] = [];
  const waiting: Array<(s: Socket) => void> = [];
  server = createServer((s) => {
    const w = waiting.shift();
    if (w) w(s);
    else accepted.push(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    async next() {
      const client = connect(port, '127.0.0.1');
      clients.push(client);
      const socket =
        accepted.shift() ?? (await new Promise<Socket>((resolve) => waiting.push(resolve)));
      await once(client, 'connect');
      return { link: new SocketLink(socket, linkKind('line', false)), client };
    },
  };
}

function collect(client: Socket): { bytes(): Buffer } {
  const chunks: Buffer[] = [];
  client.on('data', (d: Buffer) => chunks.push(d));
  return { bytes: () => Buffer.concat(chunks) };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('SocketLink', () => {
  it('keeps order across direct, gathered and queued writes, and counts the backlog', async () => {
    const { next } = await listen();
    const { link, client } = await next();
    client.pause(); // a slow reader: the kernel's buffers fill, then the stream queues
    const expected: Buffer[] = [];
    let sawBacklog = false;
    let seq = 0;
    for (let turn = 0; turn < 200; turn++) {
      for (let i = 0; i < 1 + (turn % 4); i++) {
        const chunk = Buffer.alloc(64 * 1024, `${seq++};`);
        expected.push(chunk);
        link.write(chunk);
      }
      await turnEnd();
      if (link.pendingBytes() > 0) sawBacklog = true;
    }
    expect(sawBacklog).toBe(true);
    const got = collect(client);
    client.resume();
    const total = expected.reduce((n, b) => n + b.length, 0);
    await until(() => got.bytes().length >= total);
    expect(got.bytes().equals(Buffer.concat(expected))).toBe(true);
    await until(() => link.pendingBytes() === 0);
  });

  it('many small writes in one turn arrive whole and in order', async () => {
    const { next } = await listen();
    const { link, client } = await next();
    const got = collect(client);
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i}\n`);
    for (const l of lines) link.write(Buffer.from(l));
    await until(() => got.bytes().toString() === lines.join(''));
  });

  it.each([
    ['resets the connection', (c: Socket) => void c.resetAndDestroy()],
    ['closes it normally', (c: Socket) => void c.end()],
  ])(
    'never writes to a descriptor a newer connection has taken over (the peer %s)',
    async (_how, close) => {
      const { next } = await listen();
      const a = await next();
      const closed = new Promise<void>((resolve) => a.link.onClose(() => resolve()));
      close(a.client);
      await closed;
      // The kernel hands out the lowest free descriptor: usually the one A had.
      const b = await next();
      const got = collect(b.client);
      a.link.write(Buffer.from('meant for A only\n'));
      await turnEnd();
      a.link.write(Buffer.from('still meant for A\n'));
      b.link.write(Buffer.from('for B\n'));
      await until(() => got.bytes().length > 0);
      await new Promise((r) => setTimeout(r, 50));
      expect(got.bytes().toString()).toBe('for B\n');
    },
  );
});

describe('end of turn', () => {
  it('gathers the whole next turn after a burst, and writes straight through after a quiet one', async () => {
    await turnEnd();
    expect(countWrite(false)).toBe(true);
    // A burst: the same links written to again and again in one turn.
    for (let i = 0; i < 10; i++) countWrite(true);
    await turnEnd();
    expect(countWrite(false)).toBe(false);
    await turnEnd();
    expect(countWrite(false)).toBe(true);
    await turnEnd();
  });
});
