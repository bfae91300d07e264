/**
 * The terminal client as people and scripts use it: the built CLI in a real terminal
 * (tmux), in a pipe, against a server child process that can be restarted on its ports.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LineClient } from '../../helpers/line-client.js';
import { CLI, spawnServer, type ServerProcess } from '../../helpers/process.js';
import { portOf, startTestServer } from '../../helpers/server.js';

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

/** The pane's text, wrapped rows joined back into lines. */
function screen(target: string): string {
  return tmux('capture-pane', '-p', '-J', '-t', target);
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

/** Keys one at a time, as typed: readline treats a burst as a paste (no Tab completion). */
async function type(target: string, ...keys: string[]): Promise<void> {
  for (const k of keys) {
    tmux('send-keys', '-t', target, k);
    await new Promise((r) => setTimeout(r, 60));
  }
}

function runCli(
  args: string[],
  input: string | null,
): { exited: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  if (input !== null) child.stdin.end(input);
  return {
    exited: new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err }))),
  };
}

/** The pid of the client node process itself, not the shell tmux started it from. */
function clientPid(name: string): number {
  return Number(
    execFileSync('pgrep', ['-f', `^${process.execPath} ${CLI} connect .* --name ${name}( |$)`], {
      encoding: 'utf8',
    }).trim(),
  );
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

test('connect failures: a clear message and exit code 1 (refused; no welcome in time)', async () => {
  const refused = await runCli(['connect', '127.0.0.1:1', '--name', 'x'], '').exited;
  expect(refused.code).toBe(1);
  expect(refused.err).toMatch(/^Unable to connect to 127\.0\.0\.1:1: connection refused$/m);

  const silent = net.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as net.AddressInfo).port;
  const t0 = Date.now();
  const timedOut = await runCli(
    ['connect', `127.0.0.1:${port}`, '--name', 'x', '--timeout', '300'],
    '',
  ).exited;
  expect(timedOut.code).toBe(1);
  expect(timedOut.err).toBe(`Unable to connect to 127.0.0.1:${port}: no welcome within 300 ms\n`);
  expect(Date.now() - t0).toBeLessThan(3000);
  silent.close();
});

test('pipe mode: lines are sent, events printed, --once exits after the acknowledgement; --log keeps a transcript', async () => {
  const port = server.ports.framed!.port;
  const watcher = await LineClient.named(server.ports.line!.port, 'watcher');
  const log = join(dir, 'bot.log');
  const r = await runCli(
    ['connect', `127.0.0.1:${port}`, '--name', 'pipebot', '--once', '--log', log],
    'hello from a pipe\n/me beeps\n/topic\n',
  ).exited;
  expect(r.code).toBe(0);
  await watcher.expect(/<pipebot> hello from a pipe$/);
  await watcher.expect(/\* pipebot beeps$/);
  await watcher.expect(/\* pipebot left \(quit: done\)$/);
  expect(r.out).toMatch(/^\* Connected to test\.plugboard|^\* Connected to .* as pipebot$/m);
  expect(r.out).toMatch(/^\[\d\d:\d\d\] <pipebot> hello from a pipe$/m);
  expect(r.out).toMatch(/^\* #lobby has no topic$/m);
  // No colour codes and no prompt in a pipe.
  expect(r.out).not.toMatch(/\x1b|\]> /);
  const transcript = readFileSync(log, 'utf8');
  expect(transcript).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \* Connected to .* as pipebot$/m);
  expect(transcript).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \[\d\d:\d\d\] \* pipebot beeps$/m);

  const json = await runCli(
    ['connect', `127.0.0.1:${port}`, '--name', 'jsonbot', '--once', '--json'],
    'x\n/teleport\n',
  ).exited;
  // The client's own complaint goes to stderr: stdout stays one JSON object per line.
  expect(json.code).toBe(1);
  expect(json.err).toMatch(/^! Unknown command \/teleport/m);
  const events = json.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; [k: string]: unknown });
  expect(events[0]).toMatchObject({ type: 'welcome', name: 'jsonbot' });
  expect(events).toContainEqual(expect.objectContaining({ type: 'message', text: 'x' }));
  expect(events.at(-1)).toMatchObject({ type: 'ok' });

  // A refused line makes --once fail, so scripts notice.
  const bad = await runCli(
    ['connect', `127.0.0.1:${port}`, '--name', 'badbot', '--once'],
    '/msg nobody_by_that_name hi\n',
  ).exited;
  expect(bad.code).toBe(1);
  expect(bad.out).toMatch(/^! .*nobody_by_that_name/m);
  watcher.close();
});

test('--no-reconnect: the shutdown reason, then Disconnected from server and exit 1', async () => {
  const local = await startTestServer(['--framed-port', '0']);
  const run = runCli(
    ['connect', `127.0.0.1:${portOf(local, 'framed')}`, '--name', 'brief', '--no-reconnect'],
    null,
  );
  const watcher = await LineClient.named(portOf(local, 'line'), 'w2');
  watcher.send('/who');
  await watcher.expect(/brief/);
  await local.close();
  const r = await run.exited;
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/^\* Server shutting down: .+\nDisconnected from server$/m);
});

test('in a terminal: prompt, typing undisturbed, completion, history, reconnect after a restart, SIGTERM restores the terminal', async () => {
  const port = server.ports.framed!.port;
  const stty = (f: string) => join(dir, f);
  // 60 columns, so a long typed line wraps over two rows.
  tmux(
    'new-session',
    '-d',
    '-s',
    'term',
    '-x',
    '60',
    '-y',
    '30',
    `stty -g > ${stty('before')}; ${process.execPath} ${CLI} connect 127.0.0.1:${port} --name termy --no-color; echo EXIT=$?; stty -g > ${stty('after')}; sleep 30`,
  );
  await waitScreen('term', /\[termy@#lobby\]>\s*$/m);
  const other = await LineClient.named(server.ports.line!.port, 'talker');

  // Half a line typed (long enough to wrap), then a message arrives: it is printed above
  // the prompt and the typed text is still there, in one piece, cursor where it was.
  const typed = 'this half typed line is long enough to wrap in sixty columns';
  tmux('send-keys', '-t', 'term', '-l', typed);
  await waitScreen('term', new RegExp(`> ${typed}$`, 'm'));
  other.send('incoming while you type');
  const s = await waitScreen('term', /<talker> incoming while you type/);
  expect(s).toMatch(
    new RegExp(`<talker> incoming while you type\\n\\[termy@#lobby\\]> ${typed}\\s*$`),
  );
  expect(s.match(/half typed/g)?.length).toBe(1);
  tmux('send-keys', '-t', 'term', ' and finished', 'Enter');
  await other.expect(new RegExp(`<termy> ${typed} and finished$`));

  // Tab completes names (addressing someone) and commands; Up recalls earlier lines.
  await type('term', 'tal', 'Tab');
  await waitScreen('term', /> talker: $/m);
  await type('term', 'hi', 'Enter');
  await other.expect(/<termy> talker: hi$/);
  await type('term', '/jo', 'Tab');
  await waitScreen('term', /> \/join $/m);
  await type('term', '#term', 'Enter');
  await waitScreen('term', /\[termy@#term\]>\s*$/m);
  await type('term', '/switch #lobby', 'Enter');
  await waitScreen('term', /\[termy@#lobby\]>\s*$/m);
  await type('term', 'Up', 'Up');
  await waitScreen('term', /\[termy@#lobby\]> \/join #term$/m);
  tmux('send-keys', '-t', 'term', 'C-u');

  // Restart the server on the same ports: the client prints the server's reason, says it
  // is disconnected, comes back into its rooms and keeps #lobby as the current room.
  const ports = server.ports;
  server.child.kill('SIGTERM');
  await server.exited;
  await waitScreen('term', /\* Server shutting down: .+\nDisconnected from server/);
  server = await spawnServer(
    ['--line-port', String(ports.line!.port), '--framed-port', String(ports.framed!.port), ...OFF],
    {},
    dir,
  );
  await waitScreen('term', /Reconnected to 127\.0\.0\.1/, 10_000);
  const after = await LineClient.named(server.ports.line!.port, 'checker');
  after.send('/who #term');
  await after.expect(/^\* In #term \(1\): @?termy$/);
  await waitScreen('term', /\[termy@#lobby\]>\s*$/m);
  after.send('after the restart');
  await waitScreen('term', /<checker> after the restart\n\[termy@#lobby\]>\s*$/);

  // SIGTERM: the client quits cleanly (others see the quit) and the terminal is restored.
  process.kill(clientPid('termy'), 'SIGTERM');
  await after.expect(/^\* termy left \(quit: leaving\)$/);
  await waitScreen('term', /^EXIT=0$/m);
  await new Promise((r) => setTimeout(r, 200));
  expect(readFileSync(stty('after'), 'utf8')).toBe(readFileSync(stty('before'), 'utf8'));
  other.close();
  after.close();
}, 40_000);

test('closing the terminal window leaves cleanly and does not send the half-typed line', async () => {
  const port = server.ports.framed!.port;
  tmux(
    'new-session',
    '-d',
    '-s',
    'hangup',
    `${process.execPath} ${CLI} connect 127.0.0.1:${port} --name hangy`,
  );
  await waitScreen('hangup', /\[hangy@#lobby\]>\s*$/m);
  const watcher = await LineClient.named(server.ports.line!.port, 'watcher3');
  tmux('send-keys', '-t', 'hangup', '-l', 'not meant to be sent');
  await waitScreen('hangup', /> not meant to be sent$/m);
  tmux('kill-session', '-t', 'hangup');
  await watcher.expect(/^\* hangy left \(quit: leaving\)$/);
  expect(watcher.since().join('\n')).not.toMatch(/not meant/);
  watcher.close();
});
