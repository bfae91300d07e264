/**
 * One run: a fresh server on core 0, a fresh generator process on core 1, one RunSpec.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { RunResult, RunSpec, WorkerMessage } from './gen/types.js';
import { workerScript } from './lib/paths.js';
import type { ServerTarget } from './servers/spawn.js';

export const SERVER_CORE = 0;
export const GENERATOR_CORE = 1;

export type RunParams = Omit<
  RunSpec,
  'label' | 'protocol' | 'rooms' | 'endpoints' | 'serverPids' | 'serverCore' | 'redis'
>;

export interface RunContext {
  logDir: string;
  profileDir?: string;
  /** Clusters: the core their Redis is pinned to (default: the server core). */
  redisCore?: number;
  /** Profile the generator too (to show it is not the bottleneck, or where it is). */
  genProfileDir?: string;
  log: (line: string) => void;
}

function emptyResult(label: string, error: string): RunResult {
  return {
    label,
    ok: false,
    errors: [error],
    register: null,
    rss: null,
    join: null,
    points: [],
    saturation: null,
    pair: null,
    disconnects: 0,
    disconnectReasons: [],
    genMaxCpuPct: 0,
    durationMs: 0,
    redisIdle: null,
    idleCpuPct: null,
  };
}

export async function runOnce(
  target: ServerTarget,
  params: RunParams,
  label: string,
  ctx: RunContext,
  timeoutMs: number,
): Promise<RunResult> {
  const logFile = join(ctx.logDir, `${label.replace(/[^\w.-]+/g, '_')}.log`);
  let server;
  try {
    server = await target.start({
      core: SERVER_CORE,
      logFile,
      profileDir: ctx.profileDir,
      redisCore: ctx.redisCore ?? SERVER_CORE,
    });
  } catch (e) {
    return emptyResult(label, `server did not start: ${(e as Error).message}`);
  }
  const spec: RunSpec = {
    ...params,
    label,
    protocol: target.protocol,
    rooms: target.rooms,
    endpoints: server.nodes ?? [{ host: server.host, port: server.port }],
    serverPids: server.nodes?.map((n) => n.pid) ?? [server.pid],
    serverCore: SERVER_CORE,
    redis: server.redis ?? null,
  };
  try {
    const result = await runWorker(spec, ctx, timeoutMs);
    if (!server.alive()) {
      result.ok = false;
      result.errors.push(`server exited during the run (log: ${logFile})`);
    }
    return result;
  } catch (e) {
    return emptyResult(label, (e as Error).message);
  } finally {
    await server.stop();
  }
}

/** Starts the generator pinned to its core, hands it the spec, waits for the result. */
function runWorker(spec: RunSpec, ctx: RunContext, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'taskset',
      [
        '-c',
        String(GENERATOR_CORE),
        process.execPath,
        '--max-old-space-size=4096',
        ...(ctx.genProfileDir ? ['--cpu-prof', '--cpu-prof-dir', ctx.genProfileDir] : []),
        workerScript,
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    let result: RunResult | null = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`generator gave no result within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') ctx.log(`    ${spec.label}: ${m.text}`);
      else result = m.result;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (result) resolve(result);
      else reject(new Error(`generator exited with code ${code} and no result`));
    });
    child.send(spec);
  });
}
