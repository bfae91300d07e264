import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { LineClient } from '../helpers/line-client.js';
import { CLI, spawnServer } from '../helpers/process.js';

const OFF = [
  '--framed-port',
  '-1',
  '--irc-port',
  '-1',
  '--http-port',
  '-1',
  '--udp-port',
  '-1',
  '--store',
  'memory',
];

function admin(dir: string, ...command: string[]) {
  return spawnSync(process.execPath, [CLI, 'admin', '--data-dir', dir, ...command], {
    encoding: 'utf8',
  });
}

test('admin socket: mode 0600, stats, who, say, kick, shutdown', async () => {
  const server = await spawnServer(['--line-port', '0', ...OFF]);
  const sock = join(server.dir, 'admin.sock');
  expect(statSync(sock).mode & 0o777).toBe(0o600);
  const port = server.ports.line!.port;
  const a = await LineClient.named(port, 'ann');
  const b = await LineClient.named(port, 'ben');

  const stats = admin(server.dir, 'stats');
  expect(stats.status).toBe(0);
  expect(stats.stdout).toMatch(/connections 2 \(line=2\); registered 2/);
  expect(stats.stdout).toMatch(/send-queue evictions 0/);
  expect(stats.stdout).toMatch(/memory rss [\d.]+ MiB/);

  expect(admin(server.dir, 'who').stdout).toMatch(/^ann line 127\.0\.0\.1 #lobby$/m);

  admin(server.dir, 'say', 'maintenance at noon');
  await a.expect(/^\* \[server\] maintenance at noon$/);
  await b.expect(/^\* \[server\] maintenance at noon$/);

  expect(admin(server.dir, 'kick', 'ben', 'be nice').stdout).toMatch(/kicked ben/);
  await b.expect(/^\* Disconnected: kicked by the server operator: be nice$/);
  await a.expect(/^\* ben left \(kicked by the server operator: be nice\)$/);

  expect(admin(server.dir, 'bogus').stdout).toMatch(/unknown command bogus/);

  expect(admin(server.dir, 'motd', 'set', 'Welcome | be nice').stdout).toMatch(
    /^Welcome\nbe nice$/m,
  );
  expect(admin(server.dir, 'ban', 'cal', '1h', 'spam').stdout).toMatch(/banned cal!\*@\* for 1h/);
  expect(admin(server.dir, 'bans').stdout).toMatch(/cal!\*@\* by server \(spam\) until/);
  const cal = await LineClient.connect(port);
  await cal.expect(/Choose a name/);
  cal.send('cal');
  await cal.expect(/^! You are banned from this server: spam$/);
  cal.send('cal2');
  await cal.expect(/^\* Welcome, cal2!/);
  await cal.expect(/^\* Welcome$/);
  await cal.expect(/^\* be nice$/);
  expect(admin(server.dir, 'unban', 'cal').stdout).toMatch(/unbanned cal/);
  cal.close();

  admin(server.dir, 'shutdown', 'upgrade');
  await a.expect(/^\* server shutting down \(upgrade\)$/);
  expect(await server.exited).toBe(0);
  // A dozen `plugboard admin` processes, each starting Node: on a loaded 2-core machine
  // that alone took over 20 s (on main too), so this test gets more than the default.
}, 120_000);

test('admin without a server says so', () => {
  const r = admin('/nonexistent-dir', 'stats');
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/Unable to connect to the admin socket/);
});
