/**
 * `plugboard serve --workers N` as a real process tree: a primary and N worker processes
 * sharing the ports. The workers run on the in-process bus here
 * (PLUGBOARD_TEST_UNSHARED_WORKERS=1: each worker is a chat of its own), which is enough
 * for the process machinery: start, readiness, shared ports, admin fan-out, signals,
 * restarts. Chat across workers needs the Redis bus and is tested with it.
 */
import { execFile, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { availableParallelism } from 'node:os';
import { afterEach, expect, test } from 'vitest';
import { LineClient } from '../helpers/line-client.js';
import { CLI, spawnServer, type ServerProcess } from '../helpers/process.js';

const UNSHARED = { PLUGBOARD_TEST_UNSHARED_WORKERS: '1' };
const BASE = ['--workers', '2', '--store', 'memory', '--irc-port', '-1', '--irc-tls-port', '-1'];

/** A process tree starting on a shared 2-core machine: room for slow starts. */
const SLOW = 60_000;

const running: ServerProcess[] = [];
const clients: LineClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  // Workers end with their primary (node:cluster), so killing the primary is enough.
  for (const s of running.splice(0)) if (s.child.exitCode === null) s.child.kill('SIGKILL');
}, SLOW);

async function start(args: string[]): Promise<ServerProcess> {
  const server = await spawnServer([...BASE, ...args], UNSHARED);
  running.push(server);
  return server;
}

async function named(port: number, name: string): Promise<LineClient> {
  const c = await LineClient.named(port, name);
  clients.push(c);
  return c;
}

/**
 * One command over the admin socket, as `plugboard admin` sends it (a line; the answer is
 * lines ended by "."). The CLI itself is run once below; starting it costs a second here.
 */
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
        resolve(got.slice(0, -2).replace(/^\.\./gm, '.'));
      }
    });
  });
}

function adminCli(dir: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, 'admin', '--data-dir', dir, ...command.split(' ')],
      { timeout: 10_000 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
}

/** Worker slot → pid, from the host's stats. */
async function workerPids(dir: string): Promise<Map<number, number>> {
  const out = await admin(dir, 'stats');
  return new Map(
    [...out.matchAll(/^worker (\d+) \(pid (\d+),/gm)].map((m) => [Number(m[1]), Number(m[2])]),
  );
}

/** Name → worker slot, from the host's `who` (each worker is its own chat here). */
async function whereIs(dir: string): Promise<Map<string, number>> {
  const out = await admin(dir, 'who');
  const where = new Map<string, number>();
  let slot = 0;
  for (const line of out.split('\n')) {
    const header = /^worker (\d+):/.exec(line);
    if (header) slot = Number(header[1]);
    const person = /^ {2}(\S+) line /.exec(line);
    if (person) where.set(person[1] as string, slot);
  }
  return where;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => Promise<T | null>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function udpEcho(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no UDP echo'));
    }, 3000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m.toString());
    });
    s.send(payload, port, '127.0.0.1');
  });
}

test(
  'ready once every worker listens; both serve the shared ports; SIGTERM stops all, clients told',
  async () => {
    const server = await start([
      '--line-port',
      '0',
      '--framed-port',
      '0',
      '--http-port',
      '0',
      '--udp-port',
      '0',
    ]);
    // The same listeners, in the same order, as a single process writes.
    expect(Object.keys(server.ports)).toEqual(['line', 'framed', 'http', 'udp']);
    // Written only once both workers listen: the host answers for both at once, also to
    // the operator's own tool.
    const stats = await adminCli(server.dir, 'stats');
    expect(stats).toMatch(/^host: 2 workers, 2 serving;/m);
    const pids = await workerPids(server.dir);
    expect([...pids.keys()]).toEqual([1, 2]);
    expect(new Set(pids.values()).size).toBe(2);

    // Connections to one port land on both workers (round-robin in the primary).
    const line = server.ports.line!.port;
    const people = await Promise.all(['ann', 'ben', 'cat', 'dan'].map((n) => named(line, n)));
    const where = await whereIs(server.dir);
    expect(new Set(where.values())).toEqual(new Set([1, 2]));
    expect(where.size).toBe(4);
    const perWorker = await admin(server.dir, 'stats');
    expect(perWorker).toMatch(/^host: 2 workers, 2 serving; connections 4 \(line=4\)/m);

    // HTTP and the UDP echo on their shared ports too.
    const health = await fetch(`http://127.0.0.1:${server.ports.http!.port}/healthz`);
    expect(health.status).toBe(200);
    expect(await udpEcho(server.ports.udp!.port, 'ping 1')).toBe('ping 1');

    // A 'process' admin command reaches every worker: new people on both see the new MOTD.
    expect(await admin(server.dir, 'motd set Fresh words')).toBe('Fresh words\n');
    const reached = new Set<number>();
    for (let i = 0; i < 6 && reached.size < 2; i++) {
      const c = await named(line, `late${i}`);
      await c.expect(/^\* Fresh words$/);
      reached.add((await whereIs(server.dir)).get(`late${i}`) as number);
    }
    expect(reached).toEqual(new Set([1, 2]));

    server.child.kill('SIGTERM');
    for (const c of people) await c.expect(/^\* server shutting down$/);
    expect(await server.exited).toBe(0);
    for (const pid of pids.values()) expect(alive(pid)).toBe(false);
    expect(server.output()).not.toMatch(/died|did not stop/);
  },
  SLOW,
);

test(
  'kill -9 of a worker: it is restarted, new connections work, the ready file stays',
  async () => {
    const server = await start([
      '--line-port',
      '0',
      '--framed-port',
      '-1',
      '--http-port',
      '-1',
      '--udp-port',
      '-1',
    ]);
    const readyFile = server.child.spawnargs[server.child.spawnargs.indexOf('--ready-file') + 1]!;
    const readyBefore = {
      text: readFileSync(readyFile, 'utf8'),
      mtime: statSync(readyFile).mtimeMs,
    };
    const line = server.ports.line!.port;
    const people = await Promise.all(['ann', 'ben', 'cat', 'dan'].map((n) => named(line, n)));
    const where = await whereIs(server.dir);
    const pids = await workerPids(server.dir);
    const victim = pids.get(1)!;

    process.kill(victim, 'SIGKILL');
    // The victim's clients lose their connection; the other worker's stay.
    for (const [i, name] of ['ann', 'ben', 'cat', 'dan'].entries()) {
      if (where.get(name) === 1) await people[i]!.waitClosed();
    }
    const restarted = await until('worker 1 restarted', async () => {
      const out = await admin(server.dir, 'stats');
      return /^host: 2 workers, 2 serving;/m.test(out) &&
        /^worker 1 \(pid \d+, node \w+, restarts 1\)/m.test(out)
        ? out
        : null;
    });
    expect(restarted).not.toContain(`pid ${victim},`);
    for (const [i, name] of ['ann', 'ben', 'cat', 'dan'].entries()) {
      if (where.get(name) === 2) expect(people[i]!.closed).toBe(false);
    }
    expect(server.output()).toMatch(/worker 1 died \(signal SIGKILL\).*restarting in \d+ ms/);

    // New connections are served, by both workers again.
    const fresh = await Promise.all(['eve', 'fay', 'gus', 'hal'].map((n) => named(line, n)));
    expect(fresh).toHaveLength(4);
    const now = await whereIs(server.dir);
    expect(new Set(['eve', 'fay', 'gus', 'hal'].map((n) => now.get(n)))).toEqual(new Set([1, 2]));

    // The ready file was written once, at start, and still tells the truth.
    expect(readFileSync(readyFile, 'utf8')).toBe(readyBefore.text);
    expect(statSync(readyFile).mtimeMs).toBe(readyBefore.mtime);

    // The admin `shutdown` stops the host like a signal does.
    expect(await admin(server.dir, 'shutdown maintenance')).toBe('shutting down\n');
    for (const c of fresh) await c.expect(/^\* server shutting down \(maintenance\)$/);
    expect(await server.exited).toBe(0);
  },
  SLOW,
);

test(
  'a worker that cannot start fails the start: exit 1, the reason, no worker left',
  async () => {
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const taken = (squatter.address() as net.AddressInfo).port;
    try {
      const r = spawnSync(
        process.execPath,
        [CLI, 'serve', ...BASE, '--line-port', String(taken), '--framed-port', '-1'],
        { encoding: 'utf8', env: { ...process.env, ...UNSHARED }, timeout: 30_000 },
      );
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/cannot start: .*EADDRINUSE/);
      // No worker outlived the primary.
      const left = spawnSync('pgrep', ['-f', `--line-port ${taken}`], { encoding: 'utf8' });
      expect(left.stdout.trim()).toBe('');
    } finally {
      squatter.close();
    }
  },
  SLOW,
);

test(
  'several workers without a shared bus are refused, with the reason and exit code 2',
  () => {
    const serve = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, 'serve', '--store', 'memory', ...args], {
        encoding: 'utf8',
      });
    const r = serve('--workers', '2');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /--workers 2 needs a bus the workers share: give --bus redis:\/\/HOST:PORT/,
    );
    // 'auto' is one per core: on one core, one process, which needs no bus (and would run).
    if (availableParallelism() > 1) {
      const auto = serve('--workers', 'auto');
      expect(auto.status).toBe(2);
      expect(auto.stderr).toMatch(/needs a bus the workers share/);
    }
    for (const bad of ['0', 'two', '1.5', '257']) {
      const b = serve('--workers', bad);
      expect(b.status).toBe(2);
      expect(b.stderr).toMatch(/--workers must be 'auto' or a whole number between 1 and 256/);
    }
  },
  SLOW,
);
