/**
 * Runs the real CLI as a child process and waits for its ready file.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = join(import.meta.dirname, '../../dist/src/cli.js');

/**
 * The pid of the terminal client started as `node CLI connect ADDRESS … --name NAME`: its
 * own node process, not the tmux or shell command line that names it too. The address is
 * part of the pattern because test files run in parallel, each may have a client of the
 * same name (two `termy`s made pgrep answer two pids).
 */
export function terminalClientPid(address: string, name: string): number {
  const literal = (s: string): string => s.replace(/[.[\]()*+?^$|\\{}]/g, '\\$&');
  const pattern = `^${literal(process.execPath)} ${literal(CLI)} connect ${literal(address)} (.* )?--name ${literal(name)}( |$)`;
  const pids = execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n');
  if (pids.length !== 1) throw new Error(`${pids.length} terminal clients match ${pattern}`);
  return Number(pids[0]);
}

export interface ServerProcess {
  child: ChildProcess;
  ports: Record<string, { host: string; port: number }>;
  dir: string;
  output(): string;
  exited: Promise<number | null>;
}

export async function spawnServer(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  dir?: string,
): Promise<ServerProcess> {
  const workDir = dir ?? mkdtempSync(join(tmpdir(), 'plugboard-proc-'));
  const ready = join(workDir, `ready-${Date.now()}-${Math.random()}.json`);
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--data-dir', workDir, '--ready-file', ready, '--log-level', 'warn', ...args],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Long only so a loaded machine passes (a few workers build and start in parallel).
  const deadline = Date.now() + 45_000;
  while (!existsSync(ready)) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server not ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const ports = JSON.parse(readFileSync(ready, 'utf8')) as ServerProcess['ports'];
  return { child, ports, dir: workDir, output: () => out, exited };
}

/** A port free right now, for a server that must come back on the same one after a restart. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}
