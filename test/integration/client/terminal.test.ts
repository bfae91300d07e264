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
import { RawFramedClient } from '../../helpers/framed-client.js';
import { LineClient } from '../../helpers/line-client.js';
import { CLI, terminalClientPid, spawnServer, type ServerProcess } from '../../helpers/process.js';
import { portOf, startTestServer } from '../../helpers/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

/** The pane's text, wrapped rows joined back into lines (or as the rows it shows). */
function screen(target: string, join = true): string {
  return tmux('capture-pane', '-p', ...(join ? ['-J'] : []), '-t', target);
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
): {
  exited: Promise<{ code: number | null; out: string; err: string }>;
  child: ReturnType<typeof spawn>;
  /** Resolves when stdout first matches, with the time it did. */
  printed(re: RegExp, timeoutMs?: number): Promise<number>;
} {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve(t: number): void }[] = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.filter((w) => w.re.test(out))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(performance.now());
    }
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  if (input !== null) child.stdin.end(input);
  const printed = (re: RegExp, timeoutMs = 8000) =>
    new Promise<number>((resolve, reject) => {
      if (re.test(out)) return resolve(performance.now());
      const timer = setTimeout(() => reject(new Error(`never printed ${re}:\n${out}`)), timeoutMs);
      waiters.push({ re, resolve: (t) => (clearTimeout(timer), resolve(t)) });
    });
  return {
    child,
    printed,
    exited: new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err }))),
  };
}

let server: ServerProcess;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plugboard-term-'));
  server = await spawnServer(
    ['--line-port', '0', '--framed-port', '0', '--search-page', '3', ...OFF],
    {},
    dir,
  );
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
  const timedOut = await runCli(
    ['connect', `127.0.0.1:${port}`, '--name', 'x', '--timeout', '300'],
    '',
  ).exited;
  expect(timedOut.code).toBe(1);
  // The message names the timeout that ran out (no wall-clock assertion: a loaded machine
  // may take seconds to start the client at all).
  expect(timedOut.err).toBe(`Unable to connect to 127.0.0.1:${port}: no welcome within 300 ms\n`);
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

test('pipe mode: /search shows matches newest first with their day and room; /more pages on', async () => {
  const port = server.ports.framed!.port;
  const r = runCli(['connect', `127.0.0.1:${port}`, '--name', 'seeker'], null);
  const stdin = r.child.stdin!;
  await r.printed(/^\* Connected to .* as seeker$/m);
  for (let i = 0; i < 7; i++) stdin.write(`rollout step ${i}\n`);
  await r.printed(/<seeker> rollout step 6$/m);
  const hit = (i: number) =>
    new RegExp(`^\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\] #lobby <seeker> rollout step ${i}$`, 'm');
  stdin.write('/search ROLLOUT\n');
  await r.printed(/^\* 3 messages for "rollout" in your rooms, newest first:$/m);
  await r.printed(hit(4));
  await r.printed(/^\* More: \/more for older matches$/m);
  stdin.write('/more\n');
  await r.printed(hit(1));
  stdin.write('/more\n');
  await r.printed(hit(0));
  await r.printed(/^\* No more matches$/m);
  stdin.write('/more\n');
  await r.printed(/^! No more matches$/m);
  stdin.write('/search ...\n');
  await r.printed(/^! Nothing to search for: give at least one word \(letters or digits\)$/m);
  stdin.end('/quit\n');
  const { out } = await r.exited;
  // Each step once, newest first, over the three pages.
  const steps = [...out.matchAll(/^\[[^\]]+\] #lobby <seeker> rollout step (\d)$/gm)].map(
    (m) => m[1],
  );
  expect(steps).toEqual(['6', '5', '4', '3', '2', '1', '0']);
});

test('read markers: saying something marks the room read, /read marks what was shown; the JSON protocol sees both', async () => {
  const port = server.ports.framed!.port;
  const owner = await RawFramedClient.hello(port, 'marktm');
  owner.send({ type: 'register', password: 'marker-pass', ref: 'reg' });
  await owner.expect((m) => m.ref === 'reg');
  owner.send({ type: 'say', room: '#lobby', text: 'before the terminal', ref: 's0' });
  const first = await owner.expect((m) => m.ref === 's0');
  owner.close();
  await owner.waitClosed();
  const markers = async () => {
    const check = await RawFramedClient.hello(port, `markchk${Date.now() % 1000}`);
    check.send({ type: 'identify', name: 'marktm', password: 'marker-pass', ref: 'i' });
    await check.expect((m) => m.ref === 'i');
    check.send({ type: 'markers', ref: 'm' });
    const got = await check.expect((m) => m.ref === 'm');
    check.close();
    return got.markers;
  };
  // /read: up to the newest message the terminal was shown (the join's history).
  const read = await runCli(
    ['connect', `127.0.0.1:${port}`, '--name', 'marktm', '--once'],
    '/identify marker-pass\n/read\n',
  ).exited;
  expect(read.out).toMatch(/^\* #lobby is marked read$/m);
  expect(await markers()).toEqual([{ room: '#lobby', id: first.id }]);
  // Saying something: read up to one's own message.
  const said = await runCli(
    ['connect', `127.0.0.1:${port}`, '--name', 'marktm', '--once', '--json'],
    '/identify marker-pass\nmy own words\n',
  ).exited;
  const own = said.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; text?: string; id?: string })
    .find((e) => e.type === 'message' && e.text === 'my own words');
  expect(await markers()).toEqual([{ room: '#lobby', id: own?.id }]);
});

test('--no-reconnect: the shutdown reason, then Disconnected from server and exit 1', async () => {
  const local = await startTestServer(['--framed-port', '0']);
  const run = runCli(
    ['connect', `127.0.0.1:${portOf(local, 'framed')}`, '--name', 'brief', '--no-reconnect'],
    null,
  );
  const watcher = await LineClient.named(portOf(local, 'line'), 'w2');
  // The client is a process of its own: ask until it has arrived.
  for (let i = 0; i < 60 && !local.hub.find('brief'); i++) await sleep(250);
  watcher.send('/who');
  await watcher.expect(/brief/);
  await local.close();
  const r = await run.exited;
  expect(r.code).toBe(1);
  // The default reason is not said twice ("Server shutting down: server shutting down").
  expect(r.out).toMatch(/^\* Server shutting down\nDisconnected from server$/m);
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
  // Our own line is shown once, as the server's echo with time and name: the prompt line
  // it was typed on (two rows here) is gone, not left above the echo.
  const sent = await waitScreen(
    'term',
    new RegExp(`\\[\\d\\d:\\d\\d\\] <termy> ${typed} and finished\\n\\[termy@#lobby\\]>\\s*$`),
  );
  expect(sent.match(/half typed/g)?.length).toBe(1);

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
  await waitScreen('term', /\* Server shutting down\nDisconnected from server/);
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
  process.kill(terminalClientPid(`127.0.0.1:${port}`, 'termy'), 'SIGTERM');
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

test('a taken name is said, in the prompt too; /help fits 100 columns; own lines shown once', async () => {
  const port = server.ports.framed!.port;
  const holder = await LineClient.named(server.ports.line!.port, 'dup');
  tmux(
    'new-session',
    '-d',
    '-s',
    'wide',
    '-x',
    '100',
    '-y',
    '40',
    `${process.execPath} ${CLI} connect 127.0.0.1:${port} --name dup --no-color; sleep 30`,
  );
  const s = await waitScreen('wide', /\[dup_ \(dup is taken\)@#lobby\]>\s*$/m);
  expect(s).toMatch(
    /^\* Connected to .* as dup_\n\* dup is taken; you are dup_ — \/nick to change$/m,
  );
  // The notice replaces the bare refusal of the first hello.
  expect(s).not.toMatch(/already in use/);

  await type('wide', 'C-l');
  tmux('send-keys', '-t', 'wide', '-l', 'one line, once');
  tmux('send-keys', '-t', 'wide', 'Enter');
  await holder.expect(/<dup_> one line, once$/);
  const once = await waitScreen(
    'wide',
    /<dup_> one line, once\n\[dup_ \(dup is taken\)@#lobby\]>\s*$/,
  );
  expect(once.match(/one line, once/g)?.length).toBe(1);

  // /help, as the rows the terminal shows (not joined): each fits, none starts with a
  // space, and the long /history description continues in its own column.
  tmux('send-keys', '-t', 'wide', 'C-l');
  tmux('send-keys', '-t', 'wide', '-l', '/help');
  tmux('send-keys', '-t', 'wide', 'Enter');
  await waitScreen('wide', /\/quit \[REASON\][\s\S]*said in #lobby/);
  const rows = screen('wide', false).split('\n');
  const help = rows.slice(rows.findIndex((r) => r.startsWith('* Commands:')));
  const last = help.findIndex((r) => r.includes('said in #lobby'));
  expect(last).toBeGreaterThan(10);
  for (const row of help.slice(0, last + 1)) expect(row).toMatch(/^\* ?\S|^\* {3,}\S/);
  const history = help.findIndex((r) => r.includes('/history'));
  expect(help[history + 1]).toMatch(/^\* {30}NAME \(identified\)$/);
  expect(rows.join('\n')).not.toMatch(/\]> \/help/);

  // Taking a name back ends the note in the prompt.
  holder.send('/nick notdup');
  await holder.expect(/notdup/);
  tmux('send-keys', '-t', 'wide', '-l', '/nick dup');
  tmux('send-keys', '-t', 'wide', 'Enter');
  await waitScreen('wide', /^\[dup@#lobby\]>\s*$/m);
  holder.close();
  tmux('kill-session', '-t', 'wide');
}, 30_000);

test('reconnecting: the first try within half a second, then doubling; each wait said as it is', async () => {
  const local = await startTestServer(['--framed-port', '0']);
  const port = portOf(local, 'framed');
  // A pipe that stays open: the client keeps listening and reconnects.
  const run = runCli(['connect', `127.0.0.1:${port}`, '--name', 'retrier'], null);
  await run.printed(/^\* You joined #lobby/m);
  await local.close();
  await run.printed(/^Disconnected from server$/m);
  // In place of the server: a listener on its port that hangs up on every connection, so
  // each try fails at once and the gaps between them are the waits themselves.
  const tries: number[] = [];
  const hangUp = net.createServer((socket) => {
    tries.push(performance.now());
    socket.destroy();
  });
  await new Promise<void>((r) => hangUp.listen(port, '127.0.0.1', r));
  try {
    await run.printed(/next try in [\d.]+ s\n[\s\S]*next try in [\d.]+ s\n/, 15_000);
    await new Promise((r) => setTimeout(r, 50));
    const said = (
      await new Promise<string>((resolve) => {
        run.child.kill('SIGTERM');
        void run.exited.then((r) => resolve(r.out));
      })
    )
      .split('\n')
      .flatMap((l) => {
        const m = /^\* (?:Reconnecting in|Reconnect failed \(.*\); next try in) ([\d.]+) s$/.exec(
          l,
        );
        return m ? [Number(m[1]) * 1000] : [];
      });
    expect(said.length).toBeGreaterThanOrEqual(3);
    const [first = 0, second = 0, third = 0] = said;
    expect(first).toBeGreaterThanOrEqual(400);
    expect(first).toBeLessThanOrEqual(500);
    expect(second).toBeGreaterThanOrEqual(800);
    expect(second).toBeLessThanOrEqual(1000);
    expect(third).toBeGreaterThanOrEqual(1600);
    expect(third).toBeLessThanOrEqual(2000);
    // The tries happened, one per announced wait (their timing is the schedule's, unit
    // tested in test/unit/client/retry.test.ts; wall-clock gaps are not asserted here).
    expect(tries.length).toBeGreaterThanOrEqual(2);
  } finally {
    run.child.kill('SIGKILL');
    hangUp.close();
  }
}, 40_000);
