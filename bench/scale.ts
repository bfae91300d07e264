/**
 * The scale run (`--kinds scale`, part of `--cluster`): many registered line-protocol
 * connections on one host, more than one process may hold under the open-file limit.
 *
 * - Server: a throwaway redis-server and `plugboard serve --workers W --bus redis://…`
 *   (node:cluster: the primary accepts on one port and hands each connection to the
 *   next worker in turn), W chosen so each worker stays under the open-file limit.
 * - Clients: G generator processes (bench/gen/scale-worker.ts), each under the same
 *   limit, each from its own source address 127.0.0.x, all connecting at once.
 * - Everyone lands in #lobby on registering, so #lobby is a room of all of them. Once all
 *   are registered and the server is idle, its memory is read (primary and workers added
 *   up), then a marker line is said in #lobby by a client of the first generator and then
 *   by one of the last: each must reach every other client (n − 1 deliveries each), across
 *   every worker, through Redis.
 *
 * Every wait is bounded; everything started is stopped at the end.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ScaleCommand, ScaleReply } from './gen/scale-worker.js';
import { processCpuUs, rssKb, runQueueWaitUs } from './lib/proc.js';
import { scaleWorkerScript } from './lib/paths.js';
import { startPlugboard } from './servers/plugboard.js';
import { startBenchRedis } from './servers/redis.js';

export interface ScaleSpec {
  n: number;
  workers: number;
  generators: number;
  /** Registrations in flight per generator process. */
  concurrency: number;
  /** taskset core list for the servers and for the generators ("0,1": both cores). */
  serverCores: string;
  generatorCores: string;
  registerTimeoutMs: number;
  settleMs: number;
  rssSteadyWindowMs: number;
  checkTimeoutMs: number;
}

export interface ScaleCheck {
  /** Which client said the marker: "generator 0, client 0". */
  from: string;
  expected: number;
  delivered: number;
  ms: number;
  ok: boolean;
}

export interface ScaleResult {
  n: number;
  workers: number;
  generators: number;
  concurrency: number;
  registered: number;
  /** From the first connect to the last registration, all generators together. */
  connectMs: number;
  /** Server CPU (primary and workers) over the fill, ms; the primary's part apart. */
  serverCpuMs: number;
  primaryCpuMs: number;
  /**
   * The workers' event-loop threads, waiting for a CPU over the fill (runnable, not
   * running), in % of the fill's time, on average: what other load on the machine cost.
   */
  workerRunQueueWaitPct: number;
  /** The highest generator CPU over the fill, in % of one core. */
  genCpuPctMax: number;
  /** Sums over the primary and the workers, before the first connection and idle after. */
  rssStartKb: number;
  rssIdleKb: number;
  /** RSS sum of every server process / connections. */
  rssPerConnectionBytes: number;
  /** (idle − start) / connections: what the connections added. */
  addedPerConnectionBytes: number;
  settleMs: number;
  primaryKb: number;
  redisKb: number;
  /** Each worker when full: open descriptors (its connections and a few more) and RSS. */
  perWorker: Array<{ pid: number; fds: number; rssKb: number }>;
  /** Open-file limit of the servers and generators (they inherit this process's). */
  openFileLimit: number;
  checks: ScaleCheck[];
  disconnects: number;
  reasons: string[];
  ok: boolean;
  errors: string[];
  durationMs: number;
}

/** Worker processes of the primary: its children (node:cluster forks them). */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    return [];
  }
}

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** One generator process and the replies it has sent. */
class Generator {
  readonly child: ChildProcess;
  registered = 0;
  done: Extract<ScaleReply, { type: 'registered' }> | null = null;
  private saidWaiter: ((index: number) => void) | null = null;
  private countWaiter: ((m: Extract<ScaleReply, { type: 'count' }>) => void) | null = null;

  constructor(cores: string) {
    this.child = fork(scaleWorkerScript, [], {
      execArgv: ['--max-old-space-size=4096'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // Pinned after the fact: fork() cannot go through taskset and keep the IPC channel.
    if (this.child.pid !== undefined) pin(this.child.pid, cores);
    this.child.on('message', (m: ScaleReply) => {
      if (m.type === 'progress') this.registered = m.registered;
      else if (m.type === 'registered') {
        this.registered = m.registered;
        this.done = m;
      } else if (m.type === 'said') {
        const w = this.saidWaiter;
        this.saidWaiter = null;
        w?.(m.index);
      } else if (m.type === 'count') {
        const w = this.countWaiter;
        this.countWaiter = null;
        w?.(m);
      }
    });
  }

  send(m: ScaleCommand): void {
    if (this.child.connected) this.child.send(m);
  }

  /** Has client `index` (with `last`: its last registered one) say a marker; which one did. */
  say(index: number, last: boolean, timeoutMs = 5000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('a generator did not answer')), timeoutMs);
      this.saidWaiter = (i) => {
        clearTimeout(timer);
        resolve(i);
      };
      this.send({ type: 'say', index, last });
    });
  }

  count(timeoutMs = 5000): Promise<Extract<ScaleReply, { type: 'count' }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('a generator did not answer')), timeoutMs);
      this.countWaiter = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.send({ type: 'count' });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.send({ type: 'stop' });
    const late = await Promise.race([exited.then(() => false), sleep(10_000).then(() => true)]);
    if (late) {
      this.child.kill('SIGKILL');
      await exited;
    }
  }
}

function pin(pid: number, cores: string): void {
  try {
    // -a: every thread it has; threads it starts later inherit the setting.
    execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' });
  } catch {
    // Unpinned is still a valid run; the report states the intent.
  }
}

/** RSS of the server processes, once it has moved under 0.5 % for `windowMs` (at most 90 s). */
async function settledRss(pids: () => number[], windowMs: number): Promise<number> {
  const samples: number[] = [];
  const perWindow = Math.ceil(windowMs / 500);
  const deadline = performance.now() + 90_000;
  for (;;) {
    samples.push(sum(pids().map(rssKb)));
    const w = samples.slice(-(perWindow + 1));
    const lo = Math.min(...w);
    const hi = Math.max(...w);
    if ((w.length > perWindow && hi - lo <= lo * 0.005) || performance.now() > deadline)
      return samples[samples.length - 1] as number;
    await sleep(500);
  }
}

export async function runScale(
  spec: ScaleSpec,
  ctx: { logDir: string; label: string; log: (s: string) => void; profileDir?: string },
): Promise<ScaleResult> {
  const t0 = performance.now();
  const r: ScaleResult = {
    n: spec.n,
    workers: spec.workers,
    generators: spec.generators,
    concurrency: spec.concurrency,
    registered: 0,
    connectMs: NaN,
    serverCpuMs: NaN,
    primaryCpuMs: NaN,
    workerRunQueueWaitPct: NaN,
    genCpuPctMax: NaN,
    rssStartKb: NaN,
    rssIdleKb: NaN,
    rssPerConnectionBytes: NaN,
    addedPerConnectionBytes: NaN,
    settleMs: NaN,
    primaryKb: NaN,
    redisKb: NaN,
    perWorker: [],
    openFileLimit: NaN,
    checks: [],
    disconnects: 0,
    reasons: [],
    ok: false,
    errors: [],
    durationMs: 0,
  };
  const log = (s: string): void => ctx.log(`    ${ctx.label}: ${s}`);
  const base = join(ctx.logDir, ctx.label);
  const redis = await startBenchRedis(spec.serverCores, `${base}.redis.log`);
  const gens: Generator[] = [];
  let server: Awaited<ReturnType<typeof startPlugboard>> | null = null;
  try {
    server = await startPlugboard(
      'line',
      {
        core: spec.serverCores,
        logFile: `${base}.log`,
        // node:cluster forks the workers with the primary's flags: each writes a profile.
        ...(ctx.profileDir ? { profileDir: ctx.profileDir } : {}),
      },
      [...['--bus', redis.url, '--workers', String(spec.workers)]],
    );
    const primary = server.pid;
    const workers = childrenOf(primary);
    if (workers.length !== spec.workers)
      throw new Error(`expected ${spec.workers} workers, found ${workers.length}`);
    const all = (): number[] => [primary, ...workers];
    r.openFileLimit = Number(
      /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${workers[0]}/limits`, 'latin1'))?.[1],
    );
    await sleep(spec.settleMs);
    r.rssStartKb = sum(all().map(rssKb));

    // Split n over the generators; generator g connects from 127.0.0.(11 + g).
    const share = (g: number): number =>
      Math.floor(spec.n / spec.generators) + (g < spec.n % spec.generators ? 1 : 0);
    const cpu0 = sum(all().map(processCpuUs));
    const wait0 = sum(workers.map(runQueueWaitUs));
    const fill0 = performance.now();
    for (let g = 0; g < spec.generators; g++) {
      const gen = new Generator(spec.generatorCores);
      gens.push(gen);
      gen.send({
        type: 'connect',
        endpoints: [{ host: server.host, port: server.port }],
        n: share(g),
        nickPrefix: `s${g}x`,
        localAddress: `127.0.0.${11 + g}`,
        concurrency: spec.concurrency,
        timeoutMs: spec.registerTimeoutMs,
      });
    }
    const deadline = fill0 + spec.registerTimeoutMs + 10_000;
    const primaryCpu0 = processCpuUs(primary);
    let lastLog = 0;
    while (gens.some((g) => !g.done) && performance.now() < deadline) {
      await sleep(100);
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        log(
          `registered ${sum(gens.map((g) => g.registered))}/${spec.n} after ` +
            `${((performance.now() - fill0) / 1000).toFixed(0)} s`,
        );
      }
    }
    r.connectMs = performance.now() - fill0;
    r.serverCpuMs = (sum(all().map(processCpuUs)) - cpu0) / 1000;
    r.primaryCpuMs = (processCpuUs(primary) - primaryCpu0) / 1000;
    r.workerRunQueueWaitPct =
      ((sum(workers.map(runQueueWaitUs)) - wait0) / 1000 / r.connectMs / workers.length) * 100;
    r.registered = sum(gens.map((g) => g.registered));
    r.genCpuPctMax = Math.max(...gens.map((g) => g.done?.cpuPct ?? NaN));
    r.perWorker = workers.map((pid) => ({ pid, fds: fdCount(pid), rssKb: rssKb(pid) }));
    log(
      `registered ${r.registered}/${spec.n} in ${(r.connectMs / 1000).toFixed(1)} s ` +
        `(server cpu ${(r.serverCpuMs / 1000).toFixed(1)} s, workers waiting for a cpu ` +
        `${r.workerRunQueueWaitPct.toFixed(0)}% of the time); ` +
        `descriptors per worker ${r.perWorker.map((w) => w.fds).join(', ')}`,
    );
    for (const g of gens) if (g.done?.error) r.errors.push(g.done.error);
    if (gens.some((g) => !g.done)) r.errors.push('a generator did not finish registering');
    // Short of n (a time bound): the rest of the run still measures those registered.
    if (r.registered < spec.n)
      r.errors.push(
        `only ${r.registered} of ${spec.n} registered within ${(spec.registerTimeoutMs / 1000).toFixed(0)} s`,
      );
    if (r.registered < 2) throw new Error('too few registered to go on');

    const settle0 = performance.now();
    await sleep(spec.settleMs);
    r.rssIdleKb = await settledRss(all, spec.rssSteadyWindowMs);
    r.settleMs = performance.now() - settle0;
    r.primaryKb = rssKb(primary);
    r.redisKb = rssKb(redis.pid);
    r.rssPerConnectionBytes = (r.rssIdleKb * 1024) / r.registered;
    r.addedPerConnectionBytes = ((r.rssIdleKb - r.rssStartKb) * 1024) / r.registered;
    log(
      `idle rss ${(r.rssIdleKb / 1024).toFixed(0)} MiB in all ` +
        `(${r.rssPerConnectionBytes.toFixed(0)} B per connection) after ${(r.settleMs / 1000).toFixed(0)} s`,
    );

    // Markers from two ends: a client of the first and of the last generator.
    const senders: Array<[number, number, boolean]> = [
      [0, 0, false],
      [gens.length - 1, share(gens.length - 1) - 1, true],
    ];
    for (const [g, index, last] of senders) {
      const now = await Promise.all(gens.map((x) => x.count()));
      const before = sum(now.map((c) => c.markers));
      const c0 = performance.now();
      const said = await (gens[g] as Generator).say(index, last);
      // Everyone registered by now (a fill cut short by its bound may have finished a few more).
      const expected = sum(now.map((c) => c.registered)) - 1;
      if (said < 0) {
        r.checks.push({
          from: `generator ${g}: no registered client`,
          expected,
          delivered: 0,
          ms: 0,
          ok: false,
        });
        continue;
      }
      let delivered = 0;
      while (performance.now() - c0 < spec.checkTimeoutMs) {
        await sleep(50);
        const counts = await Promise.all(gens.map((x) => x.count()));
        delivered = sum(counts.map((c) => c.markers)) - before;
        if (delivered >= expected) break;
      }
      const check = {
        from: `generator ${g}, client ${said}`,
        expected,
        delivered,
        ms: performance.now() - c0,
        ok: delivered >= expected,
      };
      r.checks.push(check);
      log(`marker from ${check.from}: ${delivered}/${expected} in ${check.ms.toFixed(0)} ms`);
    }
    const counts = await Promise.all(gens.map((x) => x.count()));
    r.disconnects = sum(counts.map((c) => c.disconnects));
    r.reasons = counts.flatMap((c) => c.reasons).slice(0, 5);
    if (r.disconnects > 0) r.errors.push(`${r.disconnects} clients disconnected`);
    if (!server.alive()) r.errors.push('the server exited during the run');
  } catch (e) {
    r.errors.push((e as Error).message);
  } finally {
    // The server first: its shutdown tells every client at once, where closing the clients
    // first would make each worker announce every quit through Redis, one by one.
    await server?.stop();
    await Promise.all(gens.map((g) => g.stop()));
    await redis.stop();
  }
  r.ok = r.errors.length === 0 && r.checks.length === 2 && r.checks.every((c) => c.ok);
  r.durationMs = performance.now() - t0;
  return r;
}
