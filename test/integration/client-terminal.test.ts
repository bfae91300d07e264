import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LineClient } from '../helpers/line-client.js';
import { CLI, spawnServer, type ServerProcess } from '../helpers/process.js';

const OFF = [
  '--irc-port',
  '-1',
  '--http-port',
  '-1',
  '--udp-port',
  '-1',
  '--store',
  'memory',
  '--flood-rate',
  '0',
];
const TMUX = ['-L', `plugboard-test-${process.pid}`];

function tmux(...args: string[]): string {
  return execFileSync('tmux', [...TMUX, ...args], { encoding: 'utf8' });
}

function screen(target: string): string {
  return tmux('capture-pane', '-p', '-t', target);
}

async function waitScreen(target: string, re: RegExp, timeoutMs = 8000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = screen(target);
    if (re.test(s)) return s;
    if (Date.now() > deadline) throw new Error(`screen never matched ${re}:\n${s}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function runCli(
  args: string[],
  input: string,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
    child.stdin.end(input);
  });
}

let server: ServerProcess;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plugboard-term-'));
  server = await spawnServer(['--line-port', '0', '--framed-port', '0', ...OFF], {}, dir);
});
afterAll(() => {
  server.child.kill('SIGKILL');
  try {
    tmux('kill-server');
  } catch {
    // no tmux server left: fine
  }
});

test('connect failure: a clear message and exit code 1', async () => {
  const r = await runCli(['connect', '127.0.0.1:1', '--name', 'x'], '');
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/^Unable to connect to 127\.0\.0\.1:1: connection refused$/m);
});

test('pipe mode: lines are sent, events printed, --once exits after the acknowledgement; --log keeps a transcript', async () => {
  const port = server.ports.framed!.port;
  const watcher = await LineClient.named(server.ports.line!.port, 'watcher');
  const log = join(dir, 'bot.log');
  const r = await runCli(
    ['connect', `127.0.0.1:${port}`, '--name', 'pipebot', '--once', '--log', log],
    'hello from a pipe\n/me beeps\n',
  );
  expect(r.code).toBe(0);
  await watcher.expect(/<pipebot> hello from a pipe$/);
  await watcher.expect(/\* pipebot beeps$/);
  expect(r.out).toMatch(/^\* Connected to plugboard\.local as pipebot$/m);
  expect(r.out).toMatch(/^\[\d\d:\d\d\] <pipebot> hello from a pipe$/m);
  const transcript = readFileSync(log, 'utf8');
  expect(transcript).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \[\d\d:\d\d\] \* pipebot beeps$/m);
  const json = await runCli(
    ['connect', `127.0.0.1:${port}`, '--name', 'jsonbot', '--once', '--json'],
    'x\n',
  );
  const first = JSON.parse(json.out.split('\n')[0] as string) as { type: string; name: string };
  expect(first).toMatchObject({ type: 'welcome', name: 'jsonbot' });
  watcher.close();
});

test('in a terminal: prompt, messages arrive without garbling the typed line, reconnect after a restart, SIGTERM', async () => {
  const port = server.ports.framed!.port;
  tmux(
    'new-session',
    '-d',
    '-s',
    'term',
    '-x',
    '120',
    '-y',
    '30',
    `${process.execPath} ${CLI} connect 127.0.0.1:${port} --name termy --no-color; sleep 30`,
  );
  await waitScreen('term', /\[termy@#lobby\]>\s*$/m);
  const other = await LineClient.named(server.ports.line!.port, 'talker');
  // Type half a line, then receive a message: the typed text must still be on the prompt.
  tmux('send-keys', '-t', 'term', 'half typed');
  await waitScreen('term', /> half typed$/m);
  other.send('incoming while you type');
  const s = await waitScreen('term', /<talker> incoming while you type/);
  expect(s).toMatch(/\[termy@#lobby\]> half typed\s*$/);
  tmux('send-keys', '-t', 'term', ' and finished', 'Enter');
  await other.expect(/<termy> half typed and finished$/);
  tmux('send-keys', '-t', 'term', '/join #term', 'Enter');
  await waitScreen('term', /\[termy@#term\]>\s*$/m);
  // Tab completes commands.
  tmux('send-keys', '-t', 'term', '/hi', 'Tab');
  await waitScreen('term', /> \/history\s*$/m);
  tmux('send-keys', '-t', 'term', 'C-u');

  // Restart the server on the same ports: the client says so and comes back into its rooms.
  const ports = server.ports;
  server.child.kill('SIGTERM');
  await server.exited;
  await waitScreen('term', /Disconnected from server/);
  server = await spawnServer(
    ['--line-port', String(ports.line!.port), '--framed-port', String(ports.framed!.port), ...OFF],
    {},
    dir,
  );
  await waitScreen('term', /Reconnected to 127\.0\.0\.1/, 10_000);
  const after = await LineClient.named(server.ports.line!.port, 'checker');
  after.send('/who #term');
  await after.expect(/^\* In #term \(1\): @?termy$/);

  // SIGTERM: the client quits cleanly (others see the quit) and the terminal is restored.
  // The node process itself, not the shell tmux started it from.
  const pid = execFileSync(
    'pgrep',
    ['-f', `^${process.execPath} .*connect 127.0.0.1:${port} --name termy`],
    {
      encoding: 'utf8',
    },
  ).trim();
  process.kill(Number(pid), 'SIGTERM');
  await after.expect(/^\* termy left \(quit: leaving\)$/);
  other.close();
  after.close();
}, 40_000);
