/**
 * A real, throwaway redis-server for tests: Debian's redis-server on a free loopback port
 * with its own temporary directory, no persistence unless asked, stopped (or killed, or
 * restarted on the same port) by the test. Missing binaries fail loudly:
 * scripts/install-test-deps.sh installs them (redis-server, redis-tools).
 *
 * redis-server has no "port 0" (0 turns TCP off), so a free port is found by binding and
 * releasing one; another process may take it in between, so a start that fails with
 * "address in use" is retried on a new port.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ping } from '../../bench/servers/redis.js';

export interface RedisOptions {
  /** Turn on the append-only file, so data survives restart() (default: off). */
  appendonly?: boolean;
  /** More `--name value` arguments for redis-server. */
  args?: string[];
  /** Try this port first (a free one is picked if it is taken). */
  port?: number;
}

export interface TestRedis {
  readonly port: number;
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly dir: string;
  /** True while the server process runs. */
  readonly running: boolean;
  /** Runs `redis-cli -p PORT ...args` and resolves with its output, trimmed. */
  cli(...args: string[]): Promise<string>;
  /** SIGTERM (a graceful shutdown; with no persistence it writes nothing), waiting for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, nothing flushed. */
  kill(): Promise<void>;
  /** Stops (if running) and starts again on the same port with the same directory. */
  restart(): Promise<void>;
  /** Stops and removes the directory. */
  dispose(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

function findBin(name: string): string {
  const found = [`/usr/bin/${name}`, `/usr/local/bin/${name}`].find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `${name} not found: run scripts/install-test-deps.sh (apt-get install redis-server redis-tools)`,
    );
  }
  return found;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class RedisProcess implements TestRedis {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  readonly dir = mkdtempSync(join(tmpdir(), 'plugboard-redis-'));
  port = 0;

  constructor(
    private readonly server: string,
    private readonly client: string,
    private readonly options: RedisOptions,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  private get logFile(): string {
    return join(this.dir, 'redis.log');
  }

  private log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Starts on `port`; false when the port was taken (the caller picks another). */
  async startOn(port: number): Promise<boolean> {
    rmSync(this.logFile, { force: true });
    const args = [
      '--port',
      String(port),
      // Loopback only, and protected mode on: nothing outside this machine can reach it.
      '--bind',
      '127.0.0.1',
      '--protected-mode',
      'yes',
      '--save',
      '',
      '--appendonly',
      this.options.appendonly ? 'yes' : 'no',
      '--dir',
      this.dir,
      '--logfile',
      this.logFile,
      '--daemonize',
      'no',
      ...(this.options.args ?? []),
    ];
    const child = spawn(this.server, args, { stdio: 'ignore' });
    let gone = false;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        gone = true;
        if (this.child === child) this.child = null;
        resolve();
      }),
    );
    this.child = child;
    this.port = port;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (gone) {
        if (/address already in use/i.test(this.log())) return false;
        throw new Error(`redis-server exited at start:\n${this.log()}`);
      }
      if (await ping(port)) return true;
      await sleep(20);
    }
    child.kill('SIGKILL');
    await this.exited;
    throw new Error(
      `redis-server did not answer PING within ${READY_TIMEOUT_MS} ms:\n${this.log()}`,
    );
  }

  cli(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.client,
        ['-h', '127.0.0.1', '-p', String(this.port), ...args],
        { timeout: 10_000 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`redis-cli ${args.join(' ')}: ${err.message} ${stderr}`));
          else resolve(stdout.trim());
        },
      );
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    // SIGTERM is redis' graceful shutdown (with --save '' and no AOF it writes nothing).
    child.kill('SIGTERM');
    await this.exited;
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    // The same port: clients reconnect to the address they had. Someone may have taken it
    // in the meantime; keep trying for a while rather than moving.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await this.startOn(this.port))) {
      if (Date.now() > deadline) throw new Error(`port ${this.port} stayed taken after restart`);
      await sleep(100);
    }
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startRedis(options: RedisOptions = {}): Promise<TestRedis> {
  const redis = new RedisProcess(findBin('redis-server'), findBin('redis-cli'), options);
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = attempt === 0 && options.port ? options.port : await freePort();
    if (await redis.startOn(port)) return redis;
  }
  await redis.dispose();
  throw new Error('redis-server: no free port after 5 tries');
}
