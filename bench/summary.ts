/**
 * Folds the runs of each server into medians per figure. Only valid runs count toward a
 * median (delivered == expected, no disconnects, no reordering); a figure with no valid
 * run keeps the median of all runs but says so.
 */
import type { PointResult, RoomShard, RunResult } from './gen/types.js';
import { median } from './lib/stats.js';
import type { ScaleResult } from './scale.js';
import type { ServerTarget } from './servers/spawn.js';

export type RunKind = 'load' | 'reg' | 'capacity' | 'scale';

export interface Job {
  target: ServerTarget;
  kind: RunKind;
  n: number;
  /** Registration concurrency. */
  conc: number;
  rep: number;
}

export interface Fig {
  median: number;
  values: number[];
  /** Runs that produced the figure and passed every check, out of `runs`. */
  valid: number;
  runs: number;
}

export interface PointSummary {
  n: number;
  offered: number | 'max';
  achieved: Fig;
  cpuUsPerDelivery: Fig;
  userUsPerDelivery: Fig;
  systemUsPerDelivery: Fig;
  writeCallsPerDelivery: Fig;
  coreUsPerDelivery: Fig;
  softirqUsPerDelivery: Fig;
  linesPerRead: Fig;
  p50Ms: Fig;
  p99Ms: Fig;
  maxMs: Fig;
  latencySamples: number;
  genCpuPctMax: number;
  interferencePctMax: number;
  overloaded: boolean;
  /** A cluster's Redis per room message, and each node's share of the nodes' CPU. */
  redis?: {
    cpuUsPerMessage: Fig;
    commandsPerMessage: Fig;
    scriptsPerMessage: Fig;
    cpuPct: Fig;
    messages: Fig;
    /** Calls per message by command: the median over runs of each. */
    byCommand: Array<[string, number]>;
    /** A Redis Cluster: each master's share of Redis's CPU and its commands per message (medians). */
    masterCpuPct?: number[];
    masterCommandsPerMessage?: number[];
  };
  nodeCpuPct?: number[];
  notes: string[];
}

export interface ServerSummary {
  id: string;
  label: string;
  protocol: string;
  rooms: boolean;
  version: string;
  available: boolean;
  unavailableWhy: string;
  maxClients: number;
  maxClientsWhy: string;
  register: Array<{ n: number; concurrency: number; ms: Fig }>;
  join: Array<{ n: number; ms: Fig }>;
  rss: Array<{ n: number; perClientBytes: Fig; idleKb: Fig; settleMs: Fig; redisKb?: Fig }>;
  /** A cluster's Redis with nobody talking, per N (leases, probes). */
  redisIdle?: Array<{ n: number; commandsPerSecond: Fig; cpuPct: Fig }>;
  points: PointSummary[];
  saturation: PointSummary[];
  capacity: Array<{ n: number; ok: number; runs: number; pairMs: Fig; notes: string[] }>;
  /** Scale runs (bench/scale.ts), each as measured: there are one or two. */
  scale?: ScaleResult[];
  /** A bus on a Redis Cluster: the benchmark room's slot and master (the same every run). */
  redisShard?: RoomShard;
  runs: Array<{ label: string; ok: boolean; errors: string[]; durationMs: number }>;
}

export function fig(entries: Array<{ value: number; ok: boolean }>): Fig {
  const good = entries.filter((e) => e.ok).map((e) => e.value);
  const all = entries.map((e) => e.value);
  return {
    median: median(good.length > 0 ? good : all),
    values: all,
    valid: good.length,
    runs: entries.length,
  };
}

function pointSummary(n: number, points: PointResult[]): PointSummary {
  const first = points[0] as PointResult;
  const f = (get: (p: PointResult) => number): Fig =>
    fig(points.map((p) => ({ value: get(p), ok: p.ok })));
  return {
    n,
    offered: first.offered,
    achieved: f((p) => p.achieved),
    cpuUsPerDelivery: f((p) => p.cpuUsPerDelivery),
    userUsPerDelivery: f((p) => p.userUsPerDelivery),
    systemUsPerDelivery: f((p) => p.systemUsPerDelivery),
    writeCallsPerDelivery: f((p) => p.writeCallsPerDelivery),
    coreUsPerDelivery: f((p) => p.coreUsPerDelivery),
    softirqUsPerDelivery: f((p) => p.softirqUsPerDelivery),
    linesPerRead: f((p) => p.linesPerRead),
    p50Ms: f((p) => p.latency.p50Ms),
    p99Ms: f((p) => p.latency.p99Ms),
    maxMs: f((p) => p.latency.maxMs),
    latencySamples: median(points.map((p) => p.latency.count)),
    genCpuPctMax: Math.max(...points.map((p) => p.genCpuPct)),
    interferencePctMax: Math.max(...points.map((p) => p.interferencePct)),
    overloaded: points.some((p) => p.overloaded),
    ...redisSummary(points),
    notes: [...new Set(points.flatMap((p) => p.notes))],
  };
}

function redisSummary(points: PointResult[]): Pick<PointSummary, 'redis' | 'nodeCpuPct'> {
  const withRedis = points.filter((p) => p.redis);
  if (withRedis.length === 0) return {};
  const f = (get: (r: NonNullable<PointResult['redis']>) => number): Fig =>
    fig(withRedis.map((p) => ({ value: p.redis ? get(p.redis) : NaN, ok: p.ok })));
  const names = [...new Set(withRedis.flatMap((p) => p.redis?.byCommand.map(([c]) => c) ?? []))];
  const byCommand = names
    .map((name): [string, number] => [
      name,
      median(withRedis.map((p) => p.redis?.byCommand.find(([c]) => c === name)?.[1] ?? 0)),
    ])
    .sort((a, b) => b[1] - a[1]);
  const nodes = withRedis[0]?.nodeCpuPct.length ?? 0;
  const masters = withRedis[0]?.redis?.masterCpuPct?.length ?? 0;
  const perMaster = (get: (r: NonNullable<PointResult['redis']>) => number[] | undefined) =>
    Array.from({ length: masters }, (_, i) =>
      median(withRedis.map((p) => (p.redis ? (get(p.redis)?.[i] ?? NaN) : NaN))),
    );
  return {
    redis: {
      cpuUsPerMessage: f((r) => r.cpuUsPerMessage),
      commandsPerMessage: f((r) => r.commandsPerMessage),
      scriptsPerMessage: f((r) => r.scriptsPerMessage),
      cpuPct: f((r) => r.cpuPct),
      messages: f((r) => r.messages),
      byCommand,
      ...(masters > 0
        ? {
            masterCpuPct: perMaster((r) => r.masterCpuPct),
            masterCommandsPerMessage: perMaster((r) => r.masterCommandsPerMessage),
          }
        : {}),
    },
    nodeCpuPct: Array.from({ length: nodes }, (_, i) =>
      median(withRedis.map((p) => p.nodeCpuPct[i] ?? NaN)),
    ),
  };
}

function groupBy<T, K>(items: T[], key: (t: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

export function summarize(
  target: ServerTarget,
  available: boolean,
  unavailableWhy: string,
  done: Array<{ job: Job; result: RunResult }>,
): ServerSummary {
  const mine = done.filter((d) => d.job.target.id === target.id);
  const s: ServerSummary = {
    id: target.id,
    label: target.label,
    protocol: target.protocol,
    rooms: target.rooms,
    version: target.version,
    available,
    unavailableWhy,
    maxClients: target.maxClients,
    maxClientsWhy: target.maxClientsWhy,
    register: [],
    join: [],
    rss: [],
    points: [],
    saturation: [],
    capacity: [],
    runs: mine.map(({ result: r }) => ({
      label: r.label,
      ok: r.ok,
      errors: [...r.errors, ...r.disconnectReasons],
      durationMs: r.durationMs,
    })),
  };

  const registrations = groupBy(
    // Load runs fill at a gentle pace; their registration time is not a figure.
    mine.filter((d) => d.result.register && d.job.kind !== 'load'),
    (d) => `${d.job.n}@${d.result.register?.concurrency}`,
  );
  for (const list of registrations.values()) {
    const reg = list[0]?.result.register;
    if (!reg) continue;
    s.register.push({
      n: reg.n,
      concurrency: reg.concurrency,
      ms: fig(
        list.map((d) => ({
          value: d.result.register?.ms ?? NaN,
          ok: d.result.errors.length === 0,
        })),
      ),
    });
  }
  s.register.sort((a, b) => a.n - b.n || a.concurrency - b.concurrency);

  for (const [n, list] of groupBy(
    mine.filter((d) => d.job.kind !== 'reg' && d.result.rss),
    (d) => d.job.n,
  )) {
    s.rss.push({
      n,
      perClientBytes: fig(
        list.map((d) => ({
          value: d.result.rss?.perClientBytes ?? NaN,
          ok: d.result.errors.length === 0,
        })),
      ),
      idleKb: fig(
        list.map((d) => ({ value: d.result.rss?.idleKb ?? NaN, ok: d.result.errors.length === 0 })),
      ),
      settleMs: fig(
        list.map((d) => ({
          value: d.result.rss?.settleMs ?? NaN,
          ok: d.result.errors.length === 0,
        })),
      ),
      ...(list.some((d) => d.result.rss?.redisKb !== undefined)
        ? {
            redisKb: fig(
              list.map((d) => ({
                value: d.result.rss?.redisKb ?? NaN,
                ok: d.result.errors.length === 0,
              })),
            ),
          }
        : {}),
    });
  }
  s.rss.sort((a, b) => a.n - b.n);

  const idle = mine.filter((d) => d.result.redisIdle);
  if (idle.length > 0) {
    s.redisIdle = [...groupBy(idle, (d) => d.job.n)].map(([n, list]) => ({
      n,
      commandsPerSecond: fig(
        list.map((d) => ({
          value: d.result.redisIdle?.commandsPerSecond ?? NaN,
          ok: d.result.errors.length === 0,
        })),
      ),
      cpuPct: fig(
        list.map((d) => ({
          value: d.result.redisIdle?.cpuPct ?? NaN,
          ok: d.result.errors.length === 0,
        })),
      ),
    }));
    s.redisIdle.sort((a, b) => a.n - b.n);
  }

  const loads = mine.filter((d) => d.job.kind === 'load');
  for (const [n, list] of groupBy(loads, (d) => d.job.n)) {
    const joins = list.filter((d) => d.result.join);
    if (joins.length > 0)
      s.join.push({
        n,
        ms: fig(
          joins.map((d) => ({ value: d.result.join?.ms ?? NaN, ok: d.result.join?.ok ?? false })),
        ),
      });
    const byRate = groupBy(
      list.flatMap((d) => d.result.points),
      (p) => p.offered,
    );
    for (const points of byRate.values()) s.points.push(pointSummary(n, points));
    const sats = list.flatMap((d) => (d.result.saturation ? [d.result.saturation] : []));
    if (sats.length > 0) s.saturation.push(pointSummary(n, sats));
  }

  const scales = mine.flatMap((d) => (d.result.scale ? [d.result.scale] : []));
  if (scales.length > 0) s.scale = scales;
  const shard = mine.find((d) => d.result.redisShard)?.result.redisShard;
  if (shard) s.redisShard = shard;

  for (const [n, list] of groupBy(
    mine.filter((d) => d.job.kind === 'capacity'),
    (d) => d.job.n,
  )) {
    s.capacity.push({
      n,
      ok: list.filter((d) => d.result.ok && d.result.pair?.ok).length,
      runs: list.length,
      pairMs: fig(
        list.map((d) => ({ value: d.result.pair?.ms ?? NaN, ok: d.result.pair?.ok ?? false })),
      ),
      notes: [...new Set(list.flatMap((d) => [...d.result.errors, ...d.result.disconnectReasons]))],
    });
  }
  return s;
}
