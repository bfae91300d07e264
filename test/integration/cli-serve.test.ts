import { spawnSync } from 'node:child_process';
import { expect, test } from 'vitest';
import { LineClient } from '../helpers/line-client.js';
import { CLI, spawnServer } from '../helpers/process.js';

const OFF = [
  '--framed-port',
  '-1',
  '--irc-port',
  '-1',
  '--irc-tls-port',
  '-1',
  '--http-port',
  '-1',
  '--udp-port',
  '-1',
  '--store',
  'memory',
];

test('serve --help documents every option', () => {
  const r = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  for (const flag of [
    '--host',
    '--line-port',
    '--data-dir',
    '--config',
    '--send-queue',
    '--max-line',
    '--flood-burst',
    '--flood-rate',
    '--ready-file',
  ]) {
    expect(r.stdout).toContain(flag);
  }
});

test('bad flags get a clear error and exit code 2', () => {
  const r = spawnSync(process.execPath, [CLI, 'serve', '--line-port', 'abc'], { encoding: 'utf8' });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/--line-port must be a whole number/);
});

test('ready file, chat, and SIGTERM: every client is told, exit code 0', async () => {
  const server = await spawnServer(['--line-port', '0', ...OFF]);
  expect(Object.keys(server.ports)).toEqual(['line']);
  expect(server.ports.line?.host).toBe('127.0.0.1');
  const port = server.ports.line!.port;
  const a = await LineClient.named(port, 'alpha');
  const b = await LineClient.named(port, 'beta');
  a.send('hi beta');
  await b.expect(/<alpha> hi beta$/);
  server.child.kill('SIGTERM');
  await a.expect(/^\* server shutting down$/);
  await b.expect(/^\* server shutting down$/);
  await a.waitClosed();
  expect(await server.exited).toBe(0);
});

test('environment and config file configure the server, flags win', async () => {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-cfg-'));
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, JSON.stringify({ 'server-name': 'from.file', 'line-port': 1 }));
  const server = await spawnServer(
    ['--config', cfg, '--line-port', '0', ...OFF],
    { PLUGBOARD_SERVER_NAME: 'from.env' },
    dir,
  );
  const c = await LineClient.connect(server.ports.line!.port);
  await c.expect(/^Welcome to Plugboard at from\.env\./);
  c.close();
  server.child.kill('SIGINT');
  expect(await server.exited).toBe(0);
});
