/**
 * A throwaway redis-server for the cluster benchmarks: Debian's redis-server on a free
 * loopback port, pinned to a core, with its own temporary directory and no persistence
 * (the benchmark measures the bus, not fsync), stopped and removed after the run.
 *
 * redis-server has no "port 0" (0 turns TCP off), so a free port is found by binding and
 * releasing one; another process may take it in between, so a start that fails with
 * "address already in use" is retried on a new port (test/helpers/redis.ts does the same
 * for the tests).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, spawnPinned, stopChild } from './spawn.js';

export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) =>
  existsSync(p),
);

export function redisVersion(): string | null {
  if (!REDIS_SERVER) return null;
  try {
    // "Redis server v=7.0.15 sha=… malloc=jemalloc-5.3.0 bits=64 build=…"
    const out = execFileSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' });
    const v = /v=(\S+)/.exec(out)?.[1];
    const malloc = /malloc=(\S+)/.exec(out)?.[1];
    return v ? `redis-server ${v}${malloc ? ` (${malloc})` : ''}` : out.trim();
  } catch {
    return null;
  }
}

export interface BenchRedis {
  pid: number;
  port: number;
  core: number | string;
  url: string;
  logFile: string;
  alive(): boolean;
  /** SIGTERM (nothing to save), SIGKILL if it lingers; then its directory is removed. */
  stop(): Promise<void>;
}

/** One inline PING over a fresh connection: true on +PONG (test/helpers/redis.ts uses it too). */
export function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      reply += d.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

const READY_TIMEOUT_MS = 10_000;

async function startOn(
  port: number,
  core: number | string,
  dir: string,
  logFile: string,
  extraArgs: string[] = [],
): Promise<BenchRedis | 'in-use'> {
  rmSync(logFile, { force: true });
  const child = spawnPinned(
    core,
    REDIS_SERVER as string,
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes'],
      ...['--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
      // The nodes hold two connections each; the default 10,000 is plenty, but say so.
      ...['--maxclients', '10000', '--loglevel', 'warning'],
      ...extraArgs,
    ],
    logFile,
  );
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      if (/address already in use/i.test(log())) return 'in-use';
      throw new Error(`redis-server exited at start: ${log().slice(-500)}`);
    }
    if (await ping(port)) {
      if (child.pid === undefined) throw new Error('redis-server has no pid');
      return {
        pid: child.pid,
        port,
        core,
        url: `redis://127.0.0.1:${port}`,
        logFile,
        alive: () => child.exitCode === null && child.signalCode === null,
        stop: async () => {
          await stopChild(child, 5000);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await sleep(20);
  }
  await stopChild(child, 0);
  throw new Error(`redis-server did not answer PING within ${READY_TIMEOUT_MS} ms`);
}

/**
 * Starts a fresh redis-server pinned to `core`; its output goes to `logFile`. `extraArgs`
 * are added to its command line (a Redis Cluster master's `--cluster-enabled yes`, …).
 */
export async function startBenchRedis(
  core: number | string,
  logFile: string,
  extraArgs: string[] = [],
): Promise<BenchRedis> {
  if (!REDIS_SERVER) throw new Error('redis-server not installed (apt-get install redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-bench-redis-'));
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const got = await startOn(await freePort('127.0.0.1'), core, dir, logFile, extraArgs);
      if (got !== 'in-use') return got;
    }
    throw new Error('redis-server: no free port after 5 tries');
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
