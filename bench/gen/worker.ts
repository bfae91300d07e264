/**
 * The load generator process: the orchestrator starts one per run (pinned to its own
 * core with taskset), sends a RunSpec over IPC and gets a RunResult back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { processCpuUs, rssKb } from '../lib/proc.js';
import { barrier, joinAll, loadPoint, pairCheck, registerAll } from './phases.js';
import { protocolFor } from './protocol.js';
import { redisDelta, RedisStats } from './redis-stats.js';
import { Swarm } from './swarm.js';
import type { RunResult, RunSpec, WorkerMessage } from './types.js';

function post(m: WorkerMessage): void {
  process.send?.(m);
}

function progress(text: string): void {
  post({ type: 'progress', text });
}

/** RSS counts as settled once it has moved less than this over the whole window. */
const RSS_STEADY_FRACTION = 0.005;
const RSS_SAMPLE_MS = 500;
const RSS_SETTLE_MAX_MS = 60_000;

/**
 * Idle RSS, read once it has stopped moving. V8's memory reducer returns what a burst
 * left behind some 8 s after allocation stops, then runs a few more collections, so a
 * fixed wait reads a garbage-collected server either before or after that drop depending
 * on how long the burst took: that made the figure swing between runs. A C server is
 * steady at once and costs one window.
 */
async function settledRss(
  pids: readonly number[],
  windowMs: number,
): Promise<{ kb: number; waitedMs: number }> {
  const t0 = performance.now();
  const samples: number[] = [totalRssKb(pids)];
  const perWindow = Math.ceil(windowMs / RSS_SAMPLE_MS);
  for (;;) {
    const window = samples.slice(-(perWindow + 1));
    const lo = Math.min(...window);
    const hi = Math.max(...window);
    const waitedMs = performance.now() - t0;
    if (
      (window.length > perWindow && hi - lo <= lo * RSS_STEADY_FRACTION) ||
      waitedMs > RSS_SETTLE_MAX_MS
    )
      return { kb: samples[samples.length - 1] ?? 0, waitedMs };
    await sleep(RSS_SAMPLE_MS);
    samples.push(totalRssKb(pids));
  }
}

/** A cluster's memory is its nodes' together (Redis is reported apart). */
function totalRssKb(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + rssKb(pid), 0);
}

function totalCpuUs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + processCpuUs(pid), 0);
}

export async function runSpec(spec: RunSpec): Promise<RunResult> {
  const t0 = performance.now();
  const swarm = new Swarm(
    protocolFor(spec.protocol),
    spec.endpoints,
    spec.n,
    spec.senders,
    spec.sampleReceivers,
  );
  const r: RunResult = {
    label: spec.label,
    ok: false,
    errors: [],
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
  const pids = spec.serverPids;
  let redis: RedisStats | null = null;
  const load = {
    serverPids: pids,
    serverCore: spec.serverCore,
    redis: null as RedisStats | null,
    redisOnServerCore: spec.redis?.core === spec.serverCore,
    n: spec.n,
    senders: spec.senders,
    warmupMs: spec.warmupMs,
    measureMs: spec.measureMs,
    drainTimeoutMs: spec.drainTimeoutMs,
  };
  try {
    if (spec.redis) {
      redis = await RedisStats.connect(spec.redis.masters?.map((m) => m.port) ?? spec.redis.port);
      if (spec.redis.shard) r.redisShard = spec.redis.shard;
      load.redis = redis;
    }
    const startKb = totalRssKb(pids);
    const cpu0 = totalCpuUs(pids);
    const gen0 = process.cpuUsage();
    const reg0 = performance.now();
    let regError: Error | null = null;
    await registerAll(swarm, spec.n, spec.regConcurrency, spec.registerTimeoutMs).catch(
      (e: Error) => (regError = e),
    );
    const regMs = performance.now() - reg0;
    const gen = process.cpuUsage(gen0);
    r.register = {
      n: spec.n,
      concurrency: spec.regConcurrency,
      ms: regMs,
      ok: regError === null,
      registered: swarm.registered,
      serverCpuMs: (totalCpuUs(pids) - cpu0) / 1000,
      genCpuPct: ((gen.user + gen.system) / 1000 / regMs) * 100,
    };
    progress(
      `registered ${swarm.registered}/${spec.n} in ${regMs.toFixed(0)} ms ` +
        `(server cpu ${r.register.serverCpuMs.toFixed(0)} ms, gen ${r.register.genCpuPct.toFixed(0)}%)`,
    );
    if (regError) throw regError;
    // Line-protocol registration lands everyone in #lobby, announcing each arrival to
    // all earlier ones; wait until that has all been delivered before calling it idle.
    if (spec.protocol === 'line') await barrier(swarm, spec.n, spec.registerTimeoutMs);
    const idle0 = {
      t: performance.now(),
      cpu: totalCpuUs(pids),
      r: redis ? await redis.read() : null,
    };
    await sleep(spec.settleMs);
    if (spec.measureMemory) {
      const { kb: idleKb, waitedMs } = await settledRss(pids, spec.rssSteadyWindowMs);
      r.rss = {
        startKb,
        idleKb,
        perClientBytes: ((idleKb - startKb) * 1024) / spec.n,
        settleMs: spec.settleMs + waitedMs,
        ...(spec.redis
          ? { redisKb: totalRssKb(spec.redis.masters?.map((m) => m.pid) ?? [spec.redis.pid]) }
          : {}),
      };
      progress(`idle rss ${idleKb} KiB after ${((spec.settleMs + waitedMs) / 1000).toFixed(0)} s`);
    }
    const idleMs = performance.now() - idle0.t;
    r.idleCpuPct = ((totalCpuUs(pids) - idle0.cpu) / 1000 / idleMs) * 100;
    if (redis && idle0.r) {
      const d = redisDelta(idle0.r, await redis.read());
      const ms = performance.now() - idle0.t;
      r.redisIdle = {
        commandsPerSecond: (d.total / ms) * 1000,
        cpuPct: (d.cpuUs / 1000 / ms) * 100,
      };
      progress(
        `idle: servers ${r.idleCpuPct.toFixed(1)}% cpu, redis ${r.redisIdle.cpuPct.toFixed(2)}% cpu ` +
          `${r.redisIdle.commandsPerSecond.toFixed(1)} commands/s`,
      );
    }

    if (spec.pairCheck) {
      r.pair = await pairCheck(swarm, spec.n, spec.joinTimeoutMs);
      progress(`pair check ${r.pair.delivered}/${r.pair.expected} in ${r.pair.ms.toFixed(0)} ms`);
      if (!r.pair.ok) r.errors.push('pair check: not every client received its message');
    }

    if (spec.load && spec.rooms) {
      const t = performance.now();
      await joinAll(swarm, spec.n, spec.joinConcurrency, spec.joinTimeoutMs);
      await barrier(swarm, spec.n, spec.joinTimeoutMs);
      r.join = { ms: performance.now() - t, ok: true };
      progress(`joined ${spec.n} in ${r.join.ms.toFixed(0)} ms`);
    }

    if (spec.load) {
      for (const rate of spec.rates) {
        const p = await loadPoint(swarm, load, rate, 0);
        r.points.push(p);
        progress(pointLine(p));
      }
      if (spec.saturation) {
        const s = spec.saturation;
        const p = await loadPoint(
          swarm,
          { ...load, warmupMs: s.warmupMs, measureMs: s.measureMs },
          0,
          s.window,
        );
        r.saturation = p;
        progress(pointLine(p));
      }
    }
  } catch (e) {
    r.errors.push((e as Error).message);
  }
  r.disconnects = swarm.disconnects;
  r.disconnectReasons = swarm.reasons;
  const all = [...r.points, ...(r.saturation ? [r.saturation] : [])];
  r.genMaxCpuPct = Math.max(0, ...all.map((p) => p.genCpuPct));
  r.ok = r.errors.length === 0 && r.disconnects === 0 && all.every((p) => p.ok);
  r.durationMs = performance.now() - t0;
  swarm.closeAll();
  await redis?.close();
  return r;
}

function pointLine(p: RunResult['points'][number]): string {
  const l = p.latency;
  return (
    `offered ${p.offered} achieved ${p.achieved.toFixed(0)}/s ` +
    `cpu ${p.cpuUsPerDelivery.toFixed(2)} (core ${p.coreUsPerDelivery.toFixed(2)}) µs/dlv ` +
    `${p.linesPerRead.toFixed(1)} lines/read p50 ${l.p50Ms.toFixed(2)} p99 ${l.p99Ms.toFixed(2)} ` +
    `max ${l.maxMs.toFixed(2)} ms gen ${p.genCpuPct.toFixed(0)}% ` +
    (p.redis
      ? `redis ${p.redis.cpuUsPerMessage.toFixed(1)} µs/msg ${p.redis.commandsPerMessage.toFixed(2)} cmds/msg `
      : '') +
    `${p.ok ? 'ok' : 'INVALID'} ${p.notes.join('; ')}`
  );
}

process.on('message', (m: RunSpec) => {
  void runSpec(m).then((result) => {
    post({ type: 'result', result });
    // Give the IPC message time to leave before the sockets' teardown and exit.
    setTimeout(() => process.exit(0), 200);
  });
});
