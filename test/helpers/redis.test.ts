import net from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { startRedis, type TestRedis } from './redis.js';

let redis: TestRedis | null = null;
afterEach(async () => {
  await redis?.dispose();
  redis = null;
});

/** Whether anything accepts TCP connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

test('starts on a free loopback port, answers, restarts on the same port, stops', async () => {
  redis = await startRedis();
  expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
  expect(await redis.cli('PING')).toBe('PONG');
  expect(await redis.cli('CONFIG', 'GET', 'bind')).toContain('127.0.0.1');
  expect(await redis.cli('CONFIG', 'GET', 'protected-mode')).toContain('yes');
  expect(await redis.cli('CONFIG', 'GET', 'save')).toMatch(/^save\n?$/);
  await redis.cli('SET', 'k', 'v');
  expect(await redis.cli('GET', 'k')).toBe('v');

  const port = redis.port;
  await redis.restart();
  expect(redis.port).toBe(port);
  expect(await redis.cli('PING')).toBe('PONG');
  // No persistence by default: a restart is a Redis that lost everything.
  expect(await redis.cli('GET', 'k')).toBe('');

  await redis.stop();
  expect(redis.running).toBe(false);
  expect(await accepts(port)).toBe(false);
});

test('kill is a crash; restart brings it back; appendonly keeps data across it', async () => {
  redis = await startRedis({ appendonly: true, args: ['--appendfsync', 'always'] });
  await redis.cli('SET', 'kept', 'yes');
  await redis.kill();
  expect(redis.running).toBe(false);
  expect(await accepts(redis.port)).toBe(false);
  await redis.restart();
  expect(await redis.cli('GET', 'kept')).toBe('yes');
});

test('two at once get different ports', async () => {
  redis = await startRedis();
  const other = await startRedis();
  try {
    expect(other.port).not.toBe(redis.port);
    await other.cli('SET', 'only', 'here');
    expect(await redis.cli('GET', 'only')).toBe('');
  } finally {
    await other.dispose();
  }
});

test('a port taken between picking and starting: it moves to another', async () => {
  const squatter = net.createServer();
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  const taken = (squatter.address() as net.AddressInfo).port;
  try {
    redis = await startRedis({ port: taken });
    expect(redis.port).not.toBe(taken);
    expect(await redis.cli('PING')).toBe('PONG');
  } finally {
    squatter.close();
  }
});
