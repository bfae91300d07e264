/**
 * Starting and stopping a server under test: pinned to one core with taskset, output to
 * a log file, stopped with SIGTERM and, if it lingers, SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BusRedis, ProtocolName } from '../gen/types.js';

export interface RunningServer {
  pid: number;
  host: string;
  port: number;
  logFile: string;
  /** False once the process has exited (a crash during a run invalidates it). */
  alive(): boolean;
  /** Resolves once the process has exited. */
  stop(): Promise<void>;
  /**
   * A cluster: every node's process and chat listener (the generator spreads its clients
   * over them, client i on node i mod nodes.length). A single server leaves it out.
   */
  nodes?: NodeEndpoint[];
  /** The cluster's Redis (or Redis Cluster), whose CPU time and commands are counted per room message. */
  redis?: BusRedis;
}

export interface NodeEndpoint {
  pid: number;
  host: string;
  port: number;
}

export interface StartOptions {
  /** A core, or a taskset list ("0,1"). */
  core: number | string;
  logFile: string;
  /** Plugboard only: write a V8 CPU profile here on exit. */
  profileDir?: string;
  /** Clusters only: the core Redis is pinned to (default: `core`, with the nodes). */
  redisCore?: number | string;
}

export interface ServerTarget {
  id: string;
  label: string;
  protocol: ProtocolName;
  rooms: boolean;
  /** The most clients this server can hold on this machine, and why. */
  maxClients: number;
  maxClientsWhy: string;
  version: string;
  /** The run kinds this target takes part in (default: all). */
  kinds?: readonly string[];
  /** Only benchmarked when named in --servers or by --cluster (long, or needs Redis). */
  optIn?: boolean;
  /** Several nodes on one Redis: also runs the plan's room sizes (Redis per message). */
  cluster?: boolean;
  /** A file the target cannot start without (a Plugboard build's dist/src/cli.js). */
  requires?: string;
  start(o: StartOptions): Promise<RunningServer>;
}

/** `core`: one core, or a taskset list such as "0,1" (the scale run uses both). */
export function spawnPinned(
  core: number | string,
  cmd: string,
  args: string[],
  logFile: string,
  cwd?: string,
): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return spawn('taskset', ['-c', String(core), cmd, ...args], {
      stdio: ['ignore', fd, fd],
      cwd,
    });
  } finally {
    closeSync(fd);
  }
}

export async function stopChild(child: ChildProcess, graceMs = 8000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const late = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
  if (late) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** A port that was free a moment ago (for servers that cannot take port 0). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** Waits until `host:port` accepts a TCP connection. */
export async function waitForPort(
  child: ChildProcess,
  host: string,
  port: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
}

/** Waits for a JSON ready file ({"listener": {"host", "port"}}) and returns it. */
export async function waitForReadyFile(
  child: ChildProcess,
  path: string,
  timeoutMs: number,
): Promise<Record<string, { host: string; port: number }>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`);
    if (existsSync(path)) {
      try {
        return JSON.parse(readFileSync(path, 'utf8')) as Record<
          string,
          { host: string; port: number }
        >;
      } catch {
        // Still being written: try again.
      }
    }
    await sleep(50);
  }
  throw new Error(`no ready file ${path} after ${timeoutMs} ms`);
}

export function running(child: ChildProcess, host: string, port: number, logFile: string) {
  if (child.pid === undefined) throw new Error('server did not start');
  return {
    pid: child.pid,
    host,
    port,
    logFile,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: () => stopChild(child),
  } satisfies RunningServer;
}
