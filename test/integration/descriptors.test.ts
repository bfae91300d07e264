/**
 * Running out of file descriptors, for real: `plugboard serve` as a child process under
 * `prlimit --nofile=256:256`. (Node raises its soft limit to the hard one at start, so
 * both are set.) When accept(2) fails with EMFILE, libuv closes every pending connection
 * at once and tells Node nothing (src/transports/descriptors.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { CLI } from '../helpers/process.js';

const LIMIT = 256;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

async function serve(extra: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-fd-'));
  const ready = join(dir, 'ready.json');
  const child = spawn(
    'prlimit',
    [
      `--nofile=${LIMIT}:${LIMIT}`,
      process.execPath,
      CLI,
      'serve',
      ...['--data-dir', dir, '--ready-file', ready, '--log-level', 'warn', '--no-console'],
      ...['--line-port', '0', '--http-port', '0', '--framed-port', '-1', '--irc-port', '-1'],
      ...['--irc-tls-port', '-1', '--line-tls-port', '-1', '--framed-tls-port', '-1'],
      ...['--udp-port', '-1', '--store', 'memory', ...extra],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const deadline = Date.now() + 15_000;
  while (!existsSync(ready)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no server:\n${log}`);
    await sleep(25);
  }
  const ports = JSON.parse(readFileSync(ready, 'utf8')) as Record<string, { port: number }>;
  return { line: ports.line!.port, http: ports.http!.port, log: () => log };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Opens `n` line connections; tells, after a while, how each was received. */
async function flood(port: number, n: number) {
  const sockets: net.Socket[] = [];
  const seen = { prompted: 0, refused: 0, dropped: 0 };
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, '127.0.0.1');
    sockets.push(s);
    let text = '';
    let told = false;
    s.on('data', (d: Buffer) => {
      text += d.toString();
      if (told) return;
      if (text.includes('Choose a name')) seen.prompted++;
      else if (text.includes('Connection refused')) seen.refused++;
      else return;
      told = true;
    });
    s.on('close', () => told || seen.dropped++);
    s.on('error', () => {});
  }
  await sleep(2000);
  return { seen, close: () => sockets.forEach((s) => s.destroy()) };
}

async function status(port: number, path: string): Promise<number | string> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      signal: AbortSignal.timeout(3000),
    });
    return res.status;
  } catch (err) {
    return `failed: ${String((err as Error).cause ?? err)}`;
  }
}

describe('file descriptors', () => {
  test('by default the chat listeners leave a reserve: a full server refuses with a reason and /healthz answers', async () => {
    // 256 - (64 base + 64 lingering refusals + 16 HTTP) = 112 chat connections.
    const s = await serve(['--http-max-connections', '16']);
    const f = await flood(s.line, 300);
    expect(f.seen).toEqual({ prompted: 112, refused: 188, dropped: 0 });
    expect(await status(s.http, '/healthz')).toBe(200);
    expect(await status(s.http, '/metrics')).toBe(200);
    f.close();
    expect(s.log()).not.toMatch(/out of file descriptors/);
  });

  test('past the limit, exhaustion is logged and counted, and accepting resumes once descriptors free', async () => {
    const s = await serve(['--max-connections', '1000']);
    expect(s.log()).toMatch(/--max-connections is more than the open-file limit leaves/);
    const f = await flood(s.line, 300);
    expect(f.seen.dropped).toBeGreaterThan(0); // libuv closed them as it accepted them
    expect(await status(s.http, '/healthz')).toMatch(/^failed/);
    expect(s.log()).toMatch(/"code":"EMFILE".*out of file descriptors/);
    f.close();
    const deadline = Date.now() + 5000;
    while (!/file descriptors available again/.test(s.log()) && Date.now() < deadline) {
      await sleep(100);
    }
    expect(s.log()).toMatch(/file descriptors available again/);
    const again = await flood(s.line, 1);
    expect(again.seen.prompted).toBe(1);
    again.close();
    const metrics = await fetch(`http://127.0.0.1:${s.http}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^plugboard_fd_exhaustions_total 1$/m);
    expect(metrics).toMatch(/^process_max_fds 256$/m);
  });
});
