#!/usr/bin/env node
/**
 * Chaos: a real full disk under a real `plugboard serve`. Run as root (it mounts a tmpfs),
 * after `npm run build`:
 *
 *   sudo node scripts/chaos/full-disk.mjs [--size-mib 8] [--headroom-kib 1536] [--hold-s 5]
 *                                         [--ack-after-commit]
 *
 * Mounts a small tmpfs, starts the server with its data directory there, fills the disk
 * with a filler file but for some headroom, and drives messages over the framed protocol
 * (a window of requests in flight) until the messages themselves fill the disk. It checks
 * that sending is refused with `store_unavailable` (never an acknowledgement that is then
 * lost), that /readyz turns 503 and everyone gets the degraded notice; keeps the disk full
 * for a while, still sending, to count the write attempts (backoff); then deletes the
 * filler and checks the "back" notice, /readyz 200, and that every acknowledged message is
 * in history (over the protocol, and in the database file after a clean shutdown). Prints
 * the figures; exits 0 only if nothing acknowledged was lost.
 *
 * Bounded: under two and a half minutes, loopback only; the tmpfs is unmounted on every exit.
 */
/* global fetch, setInterval, clearInterval */
import { spawn, execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statfsSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(root, 'dist/src/cli.js');
const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '8' },
    'headroom-kib': { type: 'string', default: '1536' },
    'hold-s': { type: 'string', default: '5' },
    // The server acknowledges only committed messages: a full disk then delays or refuses
    // acknowledgements instead of keeping acknowledged messages in memory.
    'ack-after-commit': { type: 'boolean', default: false },
  },
});
const SIZE_MIB = Number(values['size-mib']);
const HEADROOM = Number(values['headroom-kib']) * 1024;
const HOLD_MS = Number(values['hold-s']) * 1000;
const DEADLINE_MS = 150_000;
const TEXT = 'the disk fills up message by message '.repeat(10); // ~370 bytes
const WINDOW = 32; // requests in flight
const DEGRADED = /^The chat is degraded: messages cannot be saved \((.+)\); sending is paused$/;
const BACK = 'The chat is back: messages are saved again';

if (process.getuid?.() !== 0) {
  process.stderr.write('full-disk: run as root (it mounts a tmpfs)\n');
  process.exit(2);
}
if (!existsSync(cli)) {
  process.stderr.write('full-disk: build first (npm run build)\n');
  process.exit(2);
}
const { FramedClient, RequestError } = await import(join(root, 'dist/src/client/index.js'));
const Database = createRequire(import.meta.url)(join(root, 'node_modules/better-sqlite3'));

const work = mkdtempSync(join(tmpdir(), 'plugboard-chaos-'));
const mnt = join(work, 'data');
mkdirSync(mnt);
let mounted = false;
let server = null;
const clients = [];

function cleanup() {
  for (const c of clients) c.close();
  if (server && server.exitCode === null) server.kill('SIGKILL');
  if (mounted) {
    try {
      execFileSync('umount', [mnt]);
    } catch {
      execFileSync('umount', ['-l', mnt]); // still busy: detach now, freed when released
    }
    mounted = false;
  }
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
const deadline = setTimeout(() => {
  process.stderr.write(`full-disk: gave up after ${DEADLINE_MS / 1000} s\n`);
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const at = () => Date.now() - t0;
const say = (line) => process.stdout.write(`[${(at() / 1000).toFixed(2)} s] ${line}\n`);

async function until(check, what, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// ---- the disk and the server -----------------------------------------------------------
execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE_MIB}m,mode=0700`, 'plugboard-chaos', mnt]);
mounted = true;
say(`tmpfs of ${SIZE_MIB} MiB mounted at ${mnt}`);

const readyFile = join(work, 'ready.json'); // outside the full disk
server = spawn(
  process.execPath,
  [
    '--max-semi-space-size=2',
    cli,
    'serve',
    '--data-dir',
    mnt,
    '--ready-file',
    readyFile,
    '--host',
    '127.0.0.1',
    '--line-port',
    '-1',
    '--framed-port',
    '0',
    '--http-port',
    '0',
    '--irc-port',
    '-1',
    '--irc-tls-port',
    '-1',
    '--line-tls-port',
    '-1',
    '--framed-tls-port',
    '-1',
    '--udp-port',
    '-1',
    '--flood-rate',
    '0',
    '--no-console',
    '--log-level',
    'info',
    ...(values['ack-after-commit'] ? ['--ack-after-commit'] : []),
  ],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
const storeLog = [];
let serverOut = '';
server.stdout.on('data', (d) => {
  serverOut += d.toString();
  let i;
  while ((i = serverOut.indexOf('\n')) >= 0) {
    const line = serverOut.slice(0, i);
    serverOut = serverOut.slice(i + 1);
    if (line.includes('store')) storeLog.push(line);
  }
});
server.stderr.resume();
await until(() => existsSync(readyFile) || server.exitCode !== null, 'the server', 15_000);
if (server.exitCode !== null) throw new Error(`server exited with ${server.exitCode}`);
const ports = JSON.parse(readFileSync(readyFile, 'utf8'));
const base = `http://127.0.0.1:${ports.http.port}`;
say(`server pid ${server.pid}: framed ${ports.framed.port}, http ${ports.http.port}`);

const readiness = [];
async function readyz() {
  const r = await fetch(`${base}/readyz`);
  await r.text();
  if (readiness.at(-1)?.status !== r.status) readiness.push({ status: r.status, at: at() });
  return r.status;
}
const poller = setInterval(() => void readyz().catch(() => {}), 100);

async function connect(name) {
  const c = await FramedClient.connect('127.0.0.1', ports.framed.port, { timeoutMs: 2000 });
  clients.push(c);
  await c.request({ type: 'hello', name });
  return c;
}
const writer = await connect('writer');
const watcher = await connect('watcher');
const notices = [];
watcher.on('notice', (m) => {
  if (DEGRADED.test(m.text) || m.text === BACK) {
    notices.push({ text: m.text, at: at() });
    say(`watcher got notice: ${m.text}`);
  }
});

// ---- fill the disk but for some headroom ----------------------------------------------
const filler = join(mnt, 'filler');
{
  const fs = statfsSync(mnt);
  const fill = fs.bavail * fs.bsize - HEADROOM;
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(1 << 20, 0x55);
  for (let left = fill; left > 0; left -= chunk.length) {
    writeSync(fd, chunk, 0, Math.min(chunk.length, left));
  }
  closeSync(fd);
  const after = statfsSync(mnt);
  say(
    `filler written: ${(fill / 1048576).toFixed(2)} MiB; ${((after.bavail * after.bsize) / 1024).toFixed(0)} KiB left`,
  );
}

// ---- drive messages until the disk is full and sending is refused ----------------------
const acked = [];
let refused = 0;
let otherErrors = 0;
let firstRefusal = null;
let ackedAfterRefusal = 0;
let sent = 0;
// With --ack-after-commit an acknowledgement waits for the commit, so requests sent just
// before the disk filled stay unanswered until it has room again: a sender waits at most
// 2 s for each before sending the next (the answer still counts whenever it comes).
const inFlight = new Set();
let ackedAfterFree = 0;
let freedAt = null;
async function request(n) {
  try {
    const reply = await writer.request({ type: 'say', room: '#lobby', text: `${n} ${TEXT}` });
    acked.push(reply.id);
    if (firstRefusal !== null) ackedAfterRefusal++;
    if (freedAt !== null) ackedAfterFree++;
  } catch (err) {
    if (err instanceof RequestError && err.code === 'store_unavailable') {
      refused++;
      if (firstRefusal === null) {
        firstRefusal = at();
        say(`first refusal after ${acked.length} acknowledged: ${err.message}`);
      }
      await sleep(5); // a refused sender backs off a little, as a person would
    } else {
      otherErrors++;
      say(`unexpected error: ${err.message}`);
    }
  }
}
async function one() {
  sent++;
  const p = request(sent);
  inFlight.add(p);
  void p.then(() => inFlight.delete(p));
  await Promise.race([p, sleep(2000)]);
}
const driveUntil = Date.now() + 45_000;
const workers = Array.from({ length: WINDOW }, async () => {
  while (Date.now() < driveUntil && !(refused >= 500 && readiness.some((r) => r.status === 503))) {
    await one();
  }
});
await Promise.all(workers);
say(`driving stopped: ${sent} sent, ${acked.length} acknowledged, ${refused} refused`);

async function metric(name) {
  const body = await (await fetch(`${base}/metrics`)).text();
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : NaN;
}
// Keep the disk full a while, a message every 10 ms: each is refused, none is a write.
const failuresBefore = await metric('plugboard_store_write_failures_total');
const holdUntil = Date.now() + HOLD_MS;
const sentBeforeHold = sent;
while (Date.now() < holdUntil) {
  await one();
  await sleep(10);
}
const failuresHeld = (await metric('plugboard_store_write_failures_total')) - failuresBefore;
const backlogHeld = await metric('plugboard_store_backlog');
say(
  `held full for ${HOLD_MS} ms: ${sent - sentBeforeHold} more sent, ${failuresHeld} write attempts failed meanwhile, backlog ${backlogHeld}`,
);
const storeLogDown = storeLog.length;

// ---- free the disk; everything queued must be written --------------------------------
unlinkSync(filler);
freedAt = at();
say('filler deleted');
await until(() => notices.some((n) => n.text === BACK), 'the "back" notice', 20_000);
await until(async () => (await readyz()) === 200, '/readyz 200', 10_000);
const pendingAtFree = inFlight.size;
await Promise.race([Promise.all([...inFlight]), sleep(40_000)]);
const allAnsweredMs = inFlight.size === 0 ? at() : null;
if (inFlight.size > 0)
  say(`${inFlight.size} requests still unanswered 40 s after the disk came back`);
else if (pendingAtFree > 0)
  say(
    `${pendingAtFree} requests unanswered when the disk came back; all answered ${allAnsweredMs - freedAt} ms after`,
  );
const recoveredAt = notices.find((n) => n.text === BACK).at;
const afterOk = await writer.request({
  type: 'say',
  room: '#lobby',
  text: 'after the disk came back',
});
acked.push(afterOk.id);
const writeFailuresTotal = await metric('plugboard_store_write_failures_total');

// History over the protocol, paged backwards.
const inHistory = new Set();
let before;
for (let page = 0; page < 200; page++) {
  const h = await watcher.request({
    type: 'history',
    room: '#lobby',
    limit: 500,
    ...(before ? { before } : {}),
  });
  if (h.messages.length === 0) break;
  for (const m of h.messages) inHistory.add(m.id);
  before = h.messages[0].id;
}
const lostOverProtocol = acked.filter((id) => !inHistory.has(id)).length;

// ---- clean shutdown, then the file itself ----------------------------------------------
clearInterval(poller);
for (const c of clients.splice(0)) c.close();
server.kill('SIGTERM');
const code = await new Promise((r) =>
  server.exitCode !== null ? r(server.exitCode) : server.on('exit', r),
);
const db = new Database(join(mnt, 'plugboard.db'), { readonly: true });
const onDisk = new Set(
  db
    .prepare("SELECT id FROM messages WHERE room_key = '#lobby'")
    .all()
    .map((r) => String(r.id)),
);
const ordered = db
  .prepare("SELECT id FROM messages WHERE room_key = '#lobby' ORDER BY id")
  .all()
  .map((r) => String(r.id));
db.close();
const lost = acked.filter((id) => !onDisk.has(id)).length;
const ackedSet = new Set(acked);
const inOrder = ordered.filter((id) => ackedSet.has(id)).join() === acked.join();

const degraded = notices.find((n) => DEGRADED.test(n.text));
const figures = {
  diskMiB: SIZE_MIB,
  ackAfterCommit: values['ack-after-commit'],
  sent,
  acknowledged: acked.length,
  refused,
  otherErrors,
  ackedAfterFirstRefusal: ackedAfterRefusal,
  unansweredAtFree: pendingAtFree,
  ackedAfterFree,
  neverAnswered: inFlight.size,
  allAnsweredAfterFreeMs: allAnsweredMs === null ? null : allAnsweredMs - freedAt,
  lost,
  lostOverProtocol,
  inOrder,
  degradedReason: degraded ? DEGRADED.exec(degraded.text)[1] : null,
  firstRefusalMs: firstRefusal,
  degradedNoticeMs: degraded?.at ?? null,
  heldFullMs: HOLD_MS,
  sentWhileHeld: sent - sentBeforeHold,
  writeAttemptsWhileHeld: failuresHeld,
  backlogWhileHeld: backlogHeld,
  writeFailuresTotal,
  freedMs: freedAt,
  recoveredMs: recoveredAt,
  recoveryAfterFreeMs: recoveredAt - freedAt,
  readyz: readiness.map((r) => `${r.status}@${(r.at / 1000).toFixed(2)}s`).join(' '),
  storeLogLinesWhileDown: storeLogDown,
  serverExit: code,
  totalMs: at(),
};
say('store log lines:');
for (const line of storeLog) {
  const j = JSON.parse(line);
  process.stdout.write(
    `    ${j.level} ${j.msg} ${JSON.stringify({ code: j.code, backlog: j.backlog, failedAttempts: j.failedAttempts, downMs: j.downMs })}\n`,
  );
}
process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
const ok =
  lost === 0 &&
  lostOverProtocol === 0 &&
  inOrder &&
  refused > 0 &&
  otherErrors === 0 &&
  inFlight.size === 0 &&
  degraded !== undefined &&
  readiness.some((r) => r.status === 503) &&
  readiness.at(-1)?.status === 200 &&
  code === 0;
process.stdout.write(ok ? 'full-disk: PASS\n' : 'full-disk: FAIL\n');
process.exitCode = ok ? 0 : 1;
