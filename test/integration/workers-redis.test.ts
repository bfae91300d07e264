/**
 * `plugboard serve --workers 2 --bus redis://…` against a real redis-server: one chat
 * across both workers, admin commands that act once for the whole chat, and a worker that
 * dies: its people are seen to quit by everyone on the other worker, and the host serves on.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { LineClient } from '../helpers/line-client.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const SLOW = 60_000;
let redis: TestRedis | null = null;
let server: ServerProcess | null = null;
const clients: LineClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
  server = null;
  await redis?.dispose();
  redis = null;
});

function admin(dir: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(join(dir, 'admin.sock'));
    let got = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error(`admin ${command}: no answer`)));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(command + '\n'));
    socket.on('data', (d) => {
      got += d.toString();
      if (got === '.\n' || got.endsWith('\n.\n')) {
        socket.end();
        resolve(got.slice(0, -2));
      }
    });
  });
}

async function named(port: number, name: string): Promise<LineClient> {
  const c = await LineClient.named(port, name);
  clients.push(c);
  return c;
}

test(
  'two workers on one Redis bus are one chat; a worker that dies: its people quit',
  async () => {
    redis = await startRedis();
    server = await spawnServer([
      '--workers',
      '2',
      '--bus',
      redis.url,
      '--store',
      'memory',
      ...['--line-port', '0', '--framed-port', '-1', '--irc-port', '-1', '--http-port', '-1'],
      ...['--udp-port', '-1', '--flood-rate', '0'],
      // A short lease: a dead worker's people are seen to leave within seconds.
      ...['--node-lease', '2'],
    ]);
    // Memory per worker: said at start, as each worker's replays are its own.
    const warned = /--store memory with --workers: each worker keeps a history of its own/;
    for (let i = 0; i < 50 && !warned.test(server.output()); i++) await sleep(100);
    expect(server.output()).toMatch(warned);
    const port = server.ports.line!.port;
    // Round-robin: the first two connections go to different workers.
    const ann = await named(port, 'ann');
    const ben = await named(port, 'ben');
    const stats = await admin(server.dir, 'stats');
    expect(stats).toMatch(/^worker 1 \(pid \d+, node \w+, restarts 0\): connections 1$/m);
    expect(stats).toMatch(/^worker 2 \(pid \d+, node \w+, restarts 0\): connections 1$/m);

    ann.send('hello from worker one');
    await ben.expect(/<ann> hello from worker one$/);
    ben.send('and back');
    await ann.expect(/<ben> and back$/);
    // Presence is shared: both workers give the same answer, shown once.
    const who = await admin(server.dir, 'who');
    expect(who.split('\n').filter(Boolean).sort()).toEqual([
      'ann line 127.0.0.1 #lobby',
      'ben line 127.0.0.1 #lobby',
    ]);

    // A chat-wide command runs once: everyone hears it once, whichever worker they are on.
    await admin(server.dir, 'say one notice');
    await ann.expect(/^\* \[server\] one notice$/);
    await ben.expect(/^\* \[server\] one notice$/);
    await new Promise((r) => setTimeout(r, 300));
    for (const c of [ann, ben])
      expect(c.lines.filter((l) => l.includes('one notice'))).toHaveLength(1);

    // kill -9 the worker that serves ben (the second connection: worker 2).
    const pid = Number(/^worker 2 \(pid (\d+),/m.exec(stats)![1]);
    process.kill(pid, 'SIGKILL');
    await ben.waitClosed();
    // ann, on the other worker, is told ben is gone (the dead node's lease runs out).
    await ann.expect(/ben/, 20_000);
    expect(ann.since().concat(ann.lines.slice(-1)).join('\n')).toMatch(/ben (left|quit)/);

    // The host serves on: a new person reaches ann, whichever worker takes them.
    const cat = await named(port, 'cat');
    cat.send('I am new here');
    await ann.expect(/<cat> I am new here$/);

    server.child.kill('SIGTERM');
    await ann.expect(/^\* server shutting down$/);
    expect(await server.exited).toBe(0);
  },
  SLOW,
);
