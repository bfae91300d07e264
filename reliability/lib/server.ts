/**
 * A real `plugboard serve` child for a scenario: every listener on a free loopback port,
 * its log in a file, and every probe the verdicts need from outside the process (its
 * descriptors and RSS from /proc, /healthz, /metrics, the admin socket). Every child
 * started here is killed when the runner exits, however it exits.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rssKb } from '../../bench/lib/proc.js';
import { cliPath } from './paths.js';

export type Ports = Record<string, { host: string; port: number }>;

export interface StartOptions {
  /** Reuse a data directory (a restart); a fresh temporary one otherwise. */
  dataDir?: string;
  /** Extra `serve` flags; they come after the defaults, so they win. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Extra V8/node flags, e.g. --heapsnapshot-signal=SIGUSR2. */
  nodeFlags?: string[];
  logLevel?: string;
  readyTimeoutMs?: number;
  /** Start under this open-file limit (soft and hard): `prlimit --nofile=N:N node …`. */
  fileLimit?: number;
}

/** The server exited (or never became ready) instead of starting. */
export class StartFailure extends Error {
  constructor(
    message: string,
    readonly code: number | null,
    readonly signal: string | null,
    readonly output: string,
    readonly ms: number,
  ) {
    super(message);
  }
}

const live = new Set<ChildProcess>();
function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
process.on('exit', killAll);

/** Kills every server child still running (the runner calls it between scenarios). */
export function killAllServers(): void {
  killAll();
  live.clear();
}

/** Every listener on port 0 (any free port) on loopback; TLS off (no certificate). */
const BASE_ARGS = [
  '--host',
  '127.0.0.1',
  '--line-port',
  '0',
  '--framed-port',
  '0',
  '--irc-port',
  '0',
  '--http-port',
  '0',
  '--udp-port',
  '0',
  '--irc-tls-port',
  '-1',
  '--line-tls-port',
  '-1',
  '--framed-tls-port',
  '-1',
  '--no-console',
];

export class Server {
  private constructor(
    readonly child: ChildProcess,
    readonly pid: number,
    readonly ports: Ports,
    readonly dataDir: string,
    readonly logFile: string,
    readonly exited: Promise<{ code: number | null; signal: string | null }>,
  ) {}

  static async start(o: StartOptions = {}): Promise<Server> {
    const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'plugboard-rel-'));
    const ready = join(dataDir, `ready-${process.pid}-${Date.now()}.json`);
    const logFile = join(dataDir, `server-${Date.now()}.log`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    // prlimit sets the limit and then execs node: the child's pid is the server's.
    const [command, prefix] =
      o.fileLimit === undefined
        ? [process.execPath, []]
        : ['prlimit', [`--nofile=${o.fileLimit}:${o.fileLimit}`, process.execPath]];
    try {
      child = spawn(
        command,
        [
          ...prefix,
          '--max-semi-space-size=2',
          ...(o.nodeFlags ?? []),
          cliPath,
          'serve',
          ...BASE_ARGS,
          '--data-dir',
          dataDir,
          '--ready-file',
          ready,
          '--log-level',
          o.logLevel ?? 'info',
          ...(o.args ?? []),
        ],
        { stdio: ['ignore', fd, fd], env: { ...process.env, ...o.env }, cwd: dataDir },
      );
    } finally {
      closeSync(fd);
    }
    live.add(child);
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => {
        live.delete(child);
        resolve({ code, signal });
      }),
    );
    const t0 = Date.now();
    const deadline = t0 + (o.readyTimeoutMs ?? 20_000);
    while (!existsSync(ready)) {
      if (child.exitCode !== null || child.signalCode !== null) {
        await exited;
        const out = readFileSync(logFile, 'utf8');
        throw new StartFailure(
          `server exited early (${child.exitCode}):\n${tail(logFile)}`,
          child.exitCode,
          child.signalCode,
          out,
          Date.now() - t0,
        );
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await exited;
        throw new StartFailure(
          `server not ready in time:\n${tail(logFile)}`,
          null,
          'not ready',
          readFileSync(logFile, 'utf8'),
          Date.now() - t0,
        );
      }
      await sleep(25);
    }
    // The ready file may be seen before it is fully written.
    let ports: Ports | undefined;
    for (let i = 0; i < 40 && !ports; i++) {
      try {
        ports = JSON.parse(readFileSync(ready, 'utf8')) as Ports;
      } catch {
        await sleep(25);
      }
    }
    if (!ports) throw new Error('unreadable ready file');
    return new Server(child, child.pid as number, ports, dataDir, logFile, exited);
  }

  port(listener: string): number {
    const p = this.ports[listener];
    if (!p) throw new Error(`no ${listener} listener`);
    return p.port;
  }

  get adminPath(): string {
    return join(this.dataDir, 'admin.sock');
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Open descriptors of the server process (`ls /proc/PID/fd | wc -l`). */
  fds(): number {
    try {
      return readdirSync(`/proc/${this.pid}/fd`).length;
    } catch {
      return -1;
    }
  }

  /** What each open descriptor is (`readlink /proc/PID/fd/N`): socket:[inode], a file, … */
  fdTargets(): Map<string, string> {
    const out = new Map<string, string>();
    try {
      for (const fd of readdirSync(`/proc/${this.pid}/fd`)) {
        try {
          out.set(fd, readlinkSync(`/proc/${this.pid}/fd/${fd}`));
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // the process is gone
    }
    return out;
  }

  rssBytes(): number {
    return rssKb(this.pid) * 1024;
  }

  /** The soft and hard open-file limits of the server (/proc/PID/limits). */
  fileLimit(): { soft: number; hard: number } {
    const m = /^Max open files\s+(\d+)\s+(\d+)/m.exec(
      readFileSync(`/proc/${this.pid}/limits`, 'utf8'),
    );
    return { soft: Number(m?.[1]), hard: Number(m?.[2]) };
  }

  /** Lowers (or raises) the open-file limit of the running server: prlimit --nofile. */
  setFileLimit(soft: number, hard = soft): void {
    execFileSync('prlimit', ['--pid', String(this.pid), `--nofile=${soft}:${hard}`]);
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Log lines parsed as JSON (pino), skipping anything else. */
  logEntries(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const line of this.log().split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line cut by a kill -9
      }
    }
    return out;
  }

  /** GET a path on the HTTP listener on a fresh connection; status and body. */
  get(path: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
    return httpGet(this.port('http'), path, timeoutMs);
  }

  /** Liveness: does /healthz answer 200 within the timeout? */
  async healthy(timeoutMs = 2000): Promise<boolean> {
    try {
      return (await this.get('/healthz', timeoutMs)).status === 200;
    } catch {
      return false;
    }
  }

  /** Prometheus metrics as name{labels} -> value. */
  async metrics(timeoutMs = 5000): Promise<Map<string, number>> {
    const { body } = await this.get('/metrics', timeoutMs);
    const out = new Map<string, number>();
    for (const line of body.split('\n')) {
      if (line.startsWith('#') || line.length === 0) continue;
      const sp = line.lastIndexOf(' ');
      out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
    }
    return out;
  }

  /** One admin-socket command; the reply's lines (the block up to the "." line). */
  admin(command: string, timeoutMs = 5000): Promise<string[]> {
    return adminCommand(this.adminPath, command, timeoutMs);
  }

  /** SIGTERM, then SIGKILL if it has not exited within graceMs. */
  async stop(graceMs = 8000): Promise<{ code: number | null; signal: string | null }> {
    if (this.alive()) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      const r = await this.exited;
      clearTimeout(timer);
      return r;
    }
    return this.exited;
  }

  async kill9(): Promise<void> {
    if (this.alive()) this.child.kill('SIGKILL');
    await this.exited;
  }
}

export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export function httpGet(
  port: number,
  path: string,
  timeoutMs = 2000,
  agent: http.Agent | false = false,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export function adminCommand(path: string, command: string, timeoutMs = 5000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`admin ${command}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(command + '\n'));
    socket.on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n');
      const end = lines.indexOf('.');
      if (end >= 0) {
        clearTimeout(timer);
        socket.destroy();
        resolve(lines.slice(0, end).map((l) => (l.startsWith('..') ? l.slice(1) : l)));
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** The heap figures of the admin `stats` memory line, in bytes. */
export function parseStatsMemory(lines: string[]): { rss: number; heapUsed: number } | null {
  const line = lines.find((l) => l.startsWith('memory '));
  const m = line && /rss ([\d.]+) MiB, heap ([\d.]+) of/.exec(line);
  if (!m) return null;
  return { rss: Number(m[1]) * 1048576, heapUsed: Number(m[2]) * 1048576 };
}
