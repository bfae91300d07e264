/**
 * The steps of one benchmark run, each bounded in count and in time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { coreUs, processCpuSplitUs, writeCalls } from '../lib/proc.js';
import { percentileSorted } from '../lib/stats.js';
import { redisDelta, type RedisReading, type RedisStats } from './redis-stats.js';
import { nowUs, type Client, type Swarm } from './swarm.js';
import type { Latency, PointResult, RedisPoint } from './types.js';

export const ROOM = '#bench';

/** Polls `done` every 2 ms; false when `timeoutMs` passed first. */
export async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await sleep(2);
  }
  return true;
}

/** Runs `task` for clients [0, n) with at most `concurrency` in flight; resolves with the time taken. */
export async function forAll(
  n: number,
  concurrency: number,
  timeoutMs: number,
  task: (i: number) => Promise<void>,
): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  let failure: Error | null = null;
  const lane = async (): Promise<void> => {
    while (next < n && failure === null) {
      const i = next++;
      try {
        await task(i);
      } catch (e) {
        failure = e as Error;
      }
    }
  };
  const lanes = Array.from({ length: Math.min(concurrency, n) }, lane);
  const timeout = sleep(timeoutMs).then(() => {
    failure ??= new Error(`timed out after ${timeoutMs} ms with ${next} of ${n} started`);
  });
  await Promise.race([Promise.all(lanes), timeout]);
  if (failure) throw failure;
  return performance.now() - t0;
}

export function registerAll(
  swarm: Swarm,
  n: number,
  concurrency: number,
  timeoutMs: number,
): Promise<number> {
  return forAll(n, concurrency, timeoutMs, (i) => swarm.connect(swarm.clients[i] as Client));
}

export function joinAll(
  swarm: Swarm,
  n: number,
  concurrency: number,
  timeoutMs: number,
): Promise<number> {
  const p = swarm.proto;
  return forAll(n, concurrency, timeoutMs, (i) =>
    swarm.request(swarm.clients[i] as Client, p.join(ROOM), p.joined),
  );
}

/**
 * Client 0 says a marker line in its current room and waits until all n-1 others got it.
 * Servers keep each connection's output in order, so by then everything sent earlier
 * (join announcements, backlog) has reached everyone too.
 */
export async function barrier(swarm: Swarm, n: number, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const target = swarm.barrier + (n - 1);
  swarm.send(swarm.clients[0] as Client, swarm.proto.say(ROOM, 'Z ~Z'));
  if (!(await until(() => swarm.barrier >= target, timeoutMs)))
    throw new Error(`barrier: ${target - swarm.barrier} of ${n - 1} receivers missing`);
  return performance.now() - t0;
}

/** Every client tells the next one something: N deliveries prove every connection still chats. */
export async function pairCheck(
  swarm: Swarm,
  n: number,
  timeoutMs: number,
): Promise<{ expected: number; delivered: number; ms: number; ok: boolean }> {
  const t0 = performance.now();
  const base = swarm.pairs;
  for (let i = 0; i < n; i++) {
    const to = (i + 1) % n;
    const c = swarm.clients[i] as Client;
    swarm.send(c, swarm.proto.tell(swarm.nick(to), `${to} ~P`));
  }
  const ok = await until(() => swarm.pairs - base >= n, timeoutMs);
  return { expected: n, delivered: swarm.pairs - base, ms: performance.now() - t0, ok };
}

export interface LoadOptions {
  /** Every server process (a cluster's nodes): their CPU times are added up. */
  serverPids: number[];
  serverCore: number;
  /** A cluster's Redis, read at the window edges; null for a single server. */
  redis: RedisStats | null;
  /** Redis shares the server core: its time is the cluster's, not interference. */
  redisOnServerCore: boolean;
  n: number;
  senders: number;
  warmupMs: number;
  measureMs: number;
  drainTimeoutMs: number;
}

/**
 * One measured point. `rate` > 0: open loop at that many offered deliveries per second,
 * never more than one second of offered load outstanding (past that the point is
 * "overloaded"). `rate` = 0: closed loop, `window` messages in flight (saturation).
 */
export async function loadPoint(
  swarm: Swarm,
  o: LoadOptions,
  rate: number,
  window: number,
): Promise<PointResult> {
  const fan = o.n - 1;
  const msgRate = rate / fan;
  const cap = rate > 0 ? Math.max(rate, 20 * fan) : window * fan;
  const base = swarm.bench;
  const seq = swarm.seq;
  let sent = 0;
  let nextSender = 0;
  let overloaded = false;
  const notes: string[] = [];

  const outstanding = (): number => sent * fan - (swarm.bench - base);
  /** Sends `count` messages round-robin, one write per sender. */
  const burst = (count: number): void => {
    if (count <= 0) return;
    const t = nowUs();
    const perSender: string[] = new Array<string>(o.senders).fill('');
    for (let i = 0; i < count; i++) {
      const k = nextSender;
      nextSender = (nextSender + 1) % o.senders;
      const q = (seq[k] as number) + 1;
      seq[k] = q;
      perSender[k] += swarm.proto.say(ROOM, `${k} ${q} ${t} ~B`);
    }
    for (let k = 0; k < o.senders; k++) {
      const chunk = perSender[k] as string;
      if (chunk) swarm.send(swarm.sender(k), chunk);
    }
    sent += count;
  };

  swarm.latencies.clear();
  const reordersBefore = swarm.reorders;
  const t0 = performance.now();
  let sending = true;
  const topUp = (): void => {
    if (!sending) return;
    if (rate > 0) {
      const due = Math.floor(((performance.now() - t0) / 1000) * msgRate);
      const room = Math.floor((cap - outstanding()) / fan);
      const want = due - sent;
      if (want > room) overloaded = true;
      burst(Math.min(want, room));
    } else if (outstanding() <= cap >> 1) {
      burst(Math.floor((cap - outstanding()) / fan));
    }
  };
  if (rate === 0) swarm.afterData = topUp;
  const ticker = setInterval(topUp, 1);
  topUp();

  await sleep(o.warmupMs);
  // Redis first (one round trip), then everything read synchronously, at both edges.
  const r0 = o.redis ? await o.redis.read() : null;
  const w0 = {
    t: performance.now(),
    bench: swarm.bench,
    sent,
    cpu: o.serverPids.map((pid) => processCpuSplitUs(pid)),
    writes: sumOf(o.serverPids.map((pid) => writeCalls(pid))),
    core: coreUs(o.serverCore),
    gen: process.cpuUsage(),
    reads: swarm.reads,
  };
  swarm.windowStartUs = nowUs();
  swarm.windowEndUs = Infinity;
  await sleep(o.measureMs);
  const r1 = o.redis ? await o.redis.read() : null;
  const w1 = {
    t: performance.now(),
    bench: swarm.bench,
    sent,
    cpu: o.serverPids.map((pid) => processCpuSplitUs(pid)),
    writes: sumOf(o.serverPids.map((pid) => writeCalls(pid))),
    core: coreUs(o.serverCore),
    gen: process.cpuUsage(w0.gen),
    reads: swarm.reads,
  };
  swarm.windowEndUs = nowUs();
  sending = false;
  clearInterval(ticker);
  swarm.afterData = null;

  const expected = sent * fan;
  const drained = await until(() => swarm.bench - base >= expected, o.drainTimeoutMs);
  const delivered = swarm.bench - base;
  if (!drained) notes.push(`not drained after ${o.drainTimeoutMs} ms`);
  if (delivered > expected) notes.push(`${delivered - expected} more deliveries than sent`);
  if (swarm.disconnects > 0) notes.push(`${swarm.disconnects} disconnects`);
  const reorders = swarm.reorders - reordersBefore;
  if (reorders > 0) notes.push(`${reorders} out-of-order deliveries`);
  if (overloaded) notes.push('overloaded: server fell a second of offered load behind');

  const windowMs = w1.t - w0.t;
  const windowDeliveries = w1.bench - w0.bench;
  const genCpuPct = ((w1.gen.user + w1.gen.system) / 1000 / windowMs) * 100;
  if (genCpuPct > 80) notes.push(`generator at ${genCpuPct.toFixed(0)}% of its core`);
  const perNode = w1.cpu.map((c, i) => {
    const before = w0.cpu[i] ?? { user: 0, system: 0 };
    return { user: c.user - before.user, system: c.system - before.system };
  });
  const userUs = sumOf(perNode.map((c) => c.user));
  const systemUs = sumOf(perNode.map((c) => c.system));
  const serverCpuUs = userUs + systemUs;
  const nodeCpuPct = perNode.map((c) => ((c.user + c.system) / Math.max(1, serverCpuUs)) * 100);
  const perDelivery = (x: number): number => (windowDeliveries > 0 ? x / windowDeliveries : NaN);
  // Per room message delivered in the window (its deliveries / (N − 1)), not per message
  // sent: a server that falls behind has sent messages Redis has not seen yet.
  const redis = r0 && r1 ? redisPoint(r0, r1, windowDeliveries / fan, windowMs) : null;
  const redisHere = r0 && r1 && o.redisOnServerCore ? r1.cpuUs - r0.cpuUs : 0;
  const foreign =
    w1.core.busy -
    w0.core.busy -
    serverCpuUs -
    redisHere -
    (w1.core.softirq - w0.core.softirq) +
    (w1.core.steal - w0.core.steal);
  const interferencePct = Math.max(0, (foreign / 1000 / windowMs) * 100);
  if (interferencePct > 10)
    notes.push(`core ${o.serverCore} ${interferencePct.toFixed(0)}% busy with other work`);
  return {
    offered: rate > 0 ? rate : 'max',
    achieved: (windowDeliveries / windowMs) * 1000,
    windowMs,
    windowDeliveries,
    sentMessages: sent,
    expected,
    delivered,
    ok: drained && delivered === expected && swarm.disconnects === 0 && reorders === 0,
    overloaded,
    serverCpuUs,
    cpuUsPerDelivery: perDelivery(serverCpuUs),
    userUsPerDelivery: perDelivery(userUs),
    systemUsPerDelivery: perDelivery(systemUs),
    writeCallsPerDelivery: perDelivery(w1.writes - w0.writes),
    coreUsPerDelivery: perDelivery(w1.core.busy - w0.core.busy),
    softirqUsPerDelivery: perDelivery(w1.core.softirq - w0.core.softirq),
    linesPerRead: windowDeliveries / Math.max(1, w1.reads - w0.reads),
    interferencePct,
    genCpuPct,
    latency: latencyOf(swarm),
    reorders,
    redis,
    nodeCpuPct,
    notes,
  };
}

function sumOf(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Redis's work in the window, per room message the generator sent in it. */
function redisPoint(
  a: RedisReading,
  b: RedisReading,
  messages: number,
  windowMs: number,
): RedisPoint {
  const d = redisDelta(a, b);
  const per = (x: number): number => (messages > 0 ? x / messages : NaN);
  const scripts = (d.calls.get('evalsha') ?? 0) + (d.calls.get('eval') ?? 0);
  // A Redis Cluster: what each master did, so the room's shard shows.
  const masters =
    a.masters && b.masters ? b.masters.map((m, i) => redisDelta(a.masters?.[i] ?? m, m)) : null;
  return {
    ...(masters
      ? {
          masterCpuPct: masters.map((m) => (m.cpuUs / Math.max(1, d.cpuUs)) * 100),
          masterCommandsPerMessage: masters.map((m) => per(m.total)),
        }
      : {}),
    messages,
    cpuUsPerMessage: per(d.cpuUs),
    commandsPerMessage: per(d.total),
    scriptsPerMessage: per(scripts),
    byCommand: [...d.calls.entries()]
      .sort((x, y) => y[1] - x[1])
      .map(([name, n]): [string, number] => [name, per(n)]),
    cpuPct: (d.cpuUs / 1000 / windowMs) * 100,
  };
}

function latencyOf(swarm: Swarm): Latency {
  const s = swarm.latencies.sorted();
  return {
    count: s.length,
    p50Ms: percentileSorted(s, 50) / 1000,
    p99Ms: percentileSorted(s, 99) / 1000,
    maxMs: s.length ? (s[s.length - 1] as number) / 1000 : NaN,
  };
}
