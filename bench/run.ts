/**
 * `npm run bench [-- --quick] [-- --cluster] [-- --servers a,b] [-- --reps N] [-- --profile]`
 *
 * Runs the plan against every available server (one fresh server per run, pinned to
 * core 0; one fresh generator per run, pinned to core 1), writes the raw results and a
 * summary under bench/results/, and renders docs/benchmarks.md with its chart. The
 * cluster plan (--cluster) keeps its own summary, which the page's Cluster section shows.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RunResult } from './gen/types.js';
import { machineInfo } from './lib/machine.js';
import { docsDir, rawDir, resultsDir } from './lib/paths.js';
import { GENERATOR_CORE, runOnce, type RunParams } from './orchestrate.js';
import { clusterPlan, fullPlan, quickClusterPlan, quickPlan, type Plan } from './plan.js';
import { runScale, type ScaleSpec } from './scale.js';
import { summarizeProfiles } from './report/profile.js';
import { renderMarkdown, type Report } from './report/markdown.js';
import { renderChart } from './report/svg.js';
import { summarize, type Job } from './summary.js';
import { baselineTargets, candidates, openFileLimit, probe } from './targets.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    cluster: { type: 'boolean', default: false },
    baseline: { type: 'string' },
    capacity: { type: 'string' },
    'no-load-memory': { type: 'boolean', default: false },
    scale: { type: 'string' },
    'scale-workers': { type: 'string' },
    'scale-generators': { type: 'string' },
    servers: { type: 'string' },
    reps: { type: 'string' },
    n: { type: 'string' },
    'room-sizes': { type: 'string' },
    rates: { type: 'string' },
    'no-saturation': { type: 'boolean', default: false },
    measure: { type: 'string' },
    kinds: { type: 'string' },
    'redis-core': { type: 'string' },
    profile: { type: 'boolean', default: false },
    'profile-generator': { type: 'boolean', default: false },
    docs: { type: 'boolean', default: false },
    'no-docs': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
    render: { type: 'boolean', default: false },
  },
});

if (flags.help) {
  console.log(`Usage: npm run bench -- [options]
  --quick          smoke plan, one rep, small N (under two minutes)
  --cluster        the cluster plan instead (about 16 minutes, 5 of them the scale run's bound; with --quick, under four):
                   plugboard-line against plugboard-cluster2 (one Redis) and
                   plugboard-cluster2-rc (a 3-master Redis Cluster) at N = 1,000, Redis
                   commands per room message at more room sizes, and the scale run
                   (100,000 connections over --workers); writes
                   bench/results/cluster-summary.json and the Cluster section of
                   docs/benchmarks.md
  --servers LIST   comma-separated ids, run in this order: plugboard-line, plugboard-irc,
                   plugboard-line-flood, ngircd, python-select (default: all that start);
                   opt-in: plugboard-cluster2 (two line nodes on one throwaway redis-server;
                   load runs), plugboard-cluster2-rc (the same two nodes on a throwaway
                   3-master Redis Cluster, --bus redis+cluster://; load runs; Redis figures
                   summed over the masters, and the room's shard), plugboard-workers (the
                   scale run), and with --baseline
                   plugboard-line-base, plugboard-irc-base
  --baseline DIR   also run plugboard-line-base and plugboard-irc-base: the same targets
                   served by DIR's build (DIR/dist/src/cli.js), interleaved with these
  --capacity LIST  capacity sizes instead of the plan's, every rep (e.g. 10000,19500; max:
                   the open-file limit's worth)
  --no-load-memory skip the idle-memory wait in load runs (capacity runs still read it)
  --scale N        the scale run's connections (default 100000; quick 4000)
  --scale-workers N, --scale-generators N   its server and generator processes (default:
                   enough that each stays under 85% of the open-file limit)
  --reps N         repetitions per point (default: 3, quick: 1)
  --n LIST         client counts for the load runs instead of the plan's (e.g. 1000,5000)
  --room-sizes LIST  the cluster plan's extra room sizes instead of its (none: skip them)
  --rates LIST     offered deliveries/s for the load runs (e.g. 50000; none: saturation only)
  --no-saturation  skip the saturation point
  --measure SEC    measurement window per point (default 4, quick 1.5)
  --kinds LIST     only these run kinds: load, reg, capacity
  --redis-core N   pin the cluster's redis-server to core N (default 0, with the nodes)
  --profile        run Plugboard under node --cpu-prof and summarise the hottest functions
  --profile-generator  profile the load generator as well
  --docs / --no-docs   render docs/benchmarks.md (default: on for the full plan only)
  --render         run nothing: re-render docs/benchmarks.md and the chart from
                   bench/results/summary.json (after editing bench/report/analysis.md)`);
  process.exit(0);
}

const started = Date.now();
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const log = (s: string): void => {
  const t = ((Date.now() - started) / 1000).toFixed(0).padStart(5);
  console.log(`[${t}s] ${s}`);
};

/** The orchestrator shares the generator's core: the server's core stays the server's alone. */
function pinSelf(): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(GENERATOR_CORE), String(process.pid)], {
      stdio: 'ignore',
    });
  } catch {
    log('warning: could not pin the orchestrator with taskset');
  }
}

/**
 * The kernel caps every listen backlog at net.core.somaxconn; some containers leave it at
 * 100, below the 511 Plugboard and the baseline ask for, which would turn a burst of 200
 * connects into SYN retransmission waits. Raise it when we may; the report records it.
 */
function raiseSomaxconn(): void {
  const path = '/proc/sys/net/core/somaxconn';
  try {
    if (Number(readFileSync(path, 'utf8')) >= 4096) return;
    writeFileSync(path, '4096\n');
    log('raised net.core.somaxconn to 4096');
  } catch {
    log('warning: net.core.somaxconn is below 4096 and could not be raised');
  }
}

function jobsFor(plan: Plan, targets: Job['target'][]): Job[] {
  const jobs: Job[] = [];
  // Repetition-major order, so slow drift on the machine touches every server alike, and
  // the servers' order reversed every other repetition (A B, B A, …), so neither side of a
  // comparison always runs first.
  for (let rep = 1; rep <= plan.reps; rep++) {
    for (const target of rep % 2 === 1 ? targets : [...targets].reverse()) {
      const fits = (n: number): boolean => n <= target.maxClients;
      const takes = (kind: Job['kind']): boolean =>
        target.kinds ? target.kinds.includes(kind) : kind !== 'scale';
      const conc = plan.fillConcurrency;
      if (takes('load'))
        for (const n of plan.loadNs.filter(fits)) jobs.push({ target, kind: 'load', n, conc, rep });
      if (takes('load') && target.cluster && rep === 1)
        for (const n of (plan.roomSizes ?? []).filter((x) => fits(x) && !plan.loadNs.includes(x)))
          jobs.push({ target, kind: 'load', n, conc, rep });
      if (takes('scale') && plan.scale && rep === 1)
        jobs.push({ target, kind: 'scale', n: plan.scale.n, conc: plan.scale.concurrency, rep });
      if (takes('reg'))
        for (const n of plan.regNs.filter(fits))
          for (const c of plan.regConcurrencies)
            jobs.push({ target, kind: 'reg', n, conc: c, rep });
      const caps = plan.capacityNs
        .filter((n) => n !== 'max' || rep <= plan.capacityMaxReps)
        .map((n) => (n === 'max' ? target.maxClients : n));
      if (takes('capacity'))
        for (const n of [...new Set(caps)].filter(fits))
          jobs.push({ target, kind: 'capacity', n, conc, rep });
    }
  }
  // The flood-control variant only answers "what does the check cost": one load size.
  return jobs.filter(
    (j) => j.target.id !== 'plugboard-line-flood' || (j.kind === 'load' && j.n === plan.loadNs[0]),
  );
}

/** Capacity runs and the smallest load size report idle memory, after a real quiet time. */
function memoryRun(plan: Plan, job: Job): { settleMs: number; measureMemory: boolean } {
  const loadMemory = plan.loadMemory !== false && !flags['no-load-memory'];
  const memory =
    job.kind === 'capacity' || (loadMemory && job.kind === 'load' && job.n === plan.loadNs[0]);
  return memory
    ? { settleMs: plan.idleSettleMs, measureMemory: true }
    : { settleMs: plan.settleMs, measureMemory: false };
}

function paramsFor(plan: Plan, job: Job): RunParams {
  return {
    n: job.n,
    regConcurrency: job.conc,
    rssSteadyWindowMs: plan.rssSteadyWindowMs,
    ...memoryRun(plan, job),
    load: job.kind === 'load',
    joinConcurrency: plan.joinConcurrency,
    senders: Math.min(plan.senders, job.n),
    sampleReceivers: plan.sampleReceivers,
    rates: plan.rates,
    warmupMs: plan.warmupMs,
    measureMs: plan.measureMs,
    drainTimeoutMs: plan.drainTimeoutMs,
    saturation: flags['no-saturation'] ? null : plan.saturation,
    pairCheck: job.kind === 'capacity',
    registerTimeoutMs: job.kind === 'reg' ? plan.regTimeoutMs : plan.registerTimeoutMs,
    joinTimeoutMs: plan.joinTimeoutMs,
  };
}

/**
 * Writes the page formatted the way the repository's `prettier --check` (part of npm test)
 * wants it, so a benchmark run never leaves the lint red. Prettier is a dev dependency,
 * like the benchmark itself; without it the page is written as rendered.
 */
async function writeMarkdown(file: string, text: string): Promise<void> {
  let out = text;
  try {
    const prettier = await import('prettier');
    const options = (await prettier.resolveConfig(file)) ?? {};
    out = await prettier.format(text, { ...options, filepath: file });
  } catch {
    // Unformatted is still correct.
  }
  writeFileSync(file, out);
}

/** Re-renders the committed page from the committed summary, running nothing. */
async function renderOnly(): Promise<void> {
  const report = JSON.parse(readFileSync(join(resultsDir, 'summary.json'), 'utf8')) as Report;
  writeFileSync(join(docsDir, 'benchmarks.svg'), renderChart(report));
  await writeMarkdown(
    join(docsDir, 'benchmarks.md'),
    renderMarkdown(report, 'benchmarks.svg', committedCluster()),
  );
  log(
    `report: ${join(docsDir, 'benchmarks.md')} re-rendered from ${join(resultsDir, 'summary.json')}`,
  );
}

const clusterSummaryFile = join(resultsDir, 'cluster-summary.json');

/** The committed cluster run, which docs/benchmarks.md shows beside the main run. */
function committedCluster(): Report | null {
  return existsSync(clusterSummaryFile)
    ? (JSON.parse(readFileSync(clusterSummaryFile, 'utf8')) as Report)
    : null;
}

/** Server and generator processes for the scale run: each under 85% of the open-file limit. */
function scaleSpec(plan: Plan, n: number): ScaleSpec {
  const s = plan.scale ?? { n, concurrency: 16, workers: 0, generators: 0 };
  const perProcess = Math.floor(openFileLimit() * 0.85);
  const enough = Math.max(1, Math.ceil(n / perProcess));
  return {
    n,
    workers: Number(flags['scale-workers'] ?? 0) || s.workers || Math.max(2, enough),
    generators: Number(flags['scale-generators'] ?? 0) || s.generators || enough,
    concurrency: s.concurrency,
    serverCores: '0,1',
    generatorCores: '0,1',
    // 3 ms per connection (100,000 in 5 minutes): past that the run reports how far it got.
    registerTimeoutMs: Math.max(60_000, n * 3),
    settleMs: plan.idleSettleMs,
    rssSteadyWindowMs: plan.rssSteadyWindowMs,
    checkTimeoutMs: 60_000,
  };
}

/** The targets to run: --servers in its order, else the plan's; --baseline adds its two. */
function chooseTargets(plan: Plan, wanted: string[] | undefined): Job['target'][] {
  let all = candidates(log);
  if (flags.baseline) all = [...all, ...baselineTargets(flags.baseline)];
  if (wanted) {
    const unknown = wanted.filter((id) => !all.some((t) => t.id === id));
    if (unknown.length) throw new Error(`unknown server id(s): ${unknown.join(', ')}`);
    return wanted.map((id) => all.find((t) => t.id === id) as Job['target']);
  }
  if (plan.scale)
    return [
      'plugboard-line',
      'plugboard-cluster2',
      'plugboard-cluster2-rc',
      'plugboard-workers',
    ].map((id) => all.find((t) => t.id === id) as Job['target']);
  return all.filter((t) => !t.optIn);
}

function isCluster(plan: Plan): boolean {
  return plan.name === 'cluster' || plan.name === 'quick-cluster';
}

async function main(): Promise<void> {
  if (flags.render) return renderOnly();
  pinSelf();
  raiseSomaxconn();
  const base = flags.cluster
    ? flags.quick
      ? quickClusterPlan
      : clusterPlan
    : flags.quick
      ? quickPlan
      : fullPlan;
  const plan: Plan = { ...base };
  if (flags.capacity) {
    plan.capacityNs = flags.capacity
      .split(',')
      .map((x) => (x.trim() === 'max' ? 'max' : Number(x)));
    plan.capacityMaxReps = Number.POSITIVE_INFINITY;
  }
  if (flags.scale && plan.scale) plan.scale = { ...plan.scale, n: Number(flags.scale) };
  if (flags.reps) plan.reps = Math.max(1, Number(flags.reps));
  if (flags.n) plan.loadNs = flags.n.split(',').map(Number);
  if (flags['room-sizes'])
    plan.roomSizes =
      flags['room-sizes'] === 'none' ? [] : flags['room-sizes'].split(',').map(Number);
  if (flags.rates) plan.rates = flags.rates === 'none' ? [] : flags.rates.split(',').map(Number);
  if (flags.measure) {
    plan.measureMs = Number(flags.measure) * 1000;
    plan.saturation = { ...plan.saturation, measureMs: plan.measureMs };
  }
  const runDir = join(rawDir, `${plan.name}-${stamp}`);
  const logDir = join(runDir, 'logs');
  const profileDir = flags.profile ? join(runDir, 'profiles') : undefined;
  mkdirSync(logDir, { recursive: true });
  log(`plan ${plan.name}, ${plan.reps} rep(s); raw output in ${runDir}`);

  const wanted = flags.servers?.split(',').map((s) => s.trim());
  let all = chooseTargets(plan, wanted);
  if (flags.profile) all = all.filter((t) => t.id.startsWith('plugboard'));
  log('probing servers');
  const probed = await probe(all, logDir, log);
  const usable = probed.filter((c) => c.available).map((c) => c.target);

  const kinds = flags.kinds?.split(',');
  const jobs = jobsFor(plan, usable).filter((j) => !kinds || kinds.includes(j.kind));
  const done: Array<{ job: Job; result: RunResult }> = [];
  for (const [i, job] of jobs.entries()) {
    const label = `${job.target.id}-${job.kind}-n${job.n}${job.kind === 'reg' ? `-c${job.conc}` : ''}-r${job.rep}`;
    log(`run ${i + 1}/${jobs.length}: ${label}`);
    if (job.kind === 'scale') {
      const scale = await runScale(scaleSpec(plan, job.n), {
        logDir,
        label,
        log,
        ...(profileDir ? { profileDir: join(profileDir, label) } : {}),
      });
      const result: RunResult = {
        label,
        ok: scale.ok,
        errors: scale.errors,
        register: null,
        rss: null,
        join: null,
        points: [],
        saturation: null,
        pair: null,
        disconnects: scale.disconnects,
        disconnectReasons: scale.reasons,
        genMaxCpuPct: scale.genCpuPctMax,
        durationMs: scale.durationMs,
        redisIdle: null,
        idleCpuPct: null,
        scale,
      };
      done.push({ job, result });
      log(
        `  ${result.ok ? 'ok' : 'INVALID'} in ${(result.durationMs / 1000).toFixed(1)} s${result.errors.length ? `: ${result.errors.join('; ')}` : ''}`,
      );
      continue;
    }
    const params = paramsFor(plan, job);
    // Bound each run: registration and joins, every point with its drain, and slack.
    const pointMs = plan.warmupMs + plan.measureMs + plan.drainTimeoutMs;
    const timeoutMs =
      plan.registerTimeoutMs * 2 +
      plan.joinTimeoutMs * 2 +
      pointMs * (plan.rates.length + 1) +
      30_000;
    const result = await runOnce(
      job.target,
      params,
      label,
      {
        logDir,
        profileDir: profileDir && join(profileDir, label),
        redisCore: flags['redis-core'] === undefined ? undefined : Number(flags['redis-core']),
        genProfileDir: flags['profile-generator'] ? join(runDir, 'gen-profiles', label) : undefined,
        log,
      },
      timeoutMs,
    );
    done.push({ job, result });
    log(
      `  ${result.ok ? 'ok' : 'INVALID'} in ${(result.durationMs / 1000).toFixed(1)} s${result.errors.length ? `: ${result.errors.join('; ')}` : ''}`,
    );
    writeFileSync(
      join(runDir, 'runs.json'),
      JSON.stringify(
        done.map((d) => ({
          server: d.job.target.id,
          kind: d.job.kind,
          n: d.job.n,
          rep: d.job.rep,
          result: d.result,
        })),
        null,
        1,
      ),
    );
  }

  const durationS = (Date.now() - started) / 1000;
  const report: Report = {
    plan,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    startedAt: new Date(started).toISOString(),
    durationS,
    machine: machineInfo(),
    servers: probed.map((c) => summarize(c.target, c.available, c.why, done)),
    profile: profileDir ? summarizeProfiles(profileDir) : null,
  };
  // Only a complete full (or cluster) run replaces the committed summary and the page.
  const docs =
    !flags['no-docs'] &&
    (flags.docs ||
      ((plan.name === 'full' || plan.name === 'cluster') &&
        !flags.baseline &&
        !flags.capacity &&
        !flags.scale &&
        !flags.profile &&
        !wanted &&
        !flags.n &&
        !flags['room-sizes'] &&
        !flags.rates &&
        !flags['no-saturation'] &&
        !flags.measure &&
        !kinds));
  mkdirSync(resultsDir, { recursive: true });
  const summaryFile = docs
    ? isCluster(plan)
      ? clusterSummaryFile
      : join(resultsDir, 'summary.json')
    : plan.name === 'quick' && !flags.profile
      ? join(resultsDir, 'quick-summary.json')
      : join(runDir, 'summary.json');
  writeFileSync(summaryFile, JSON.stringify(report, null, 1) + '\n');
  log(`summary: ${summaryFile}`);
  const mdFile = docs ? join(docsDir, 'benchmarks.md') : join(runDir, 'benchmarks.md');
  const svgFile = docs ? join(docsDir, 'benchmarks.svg') : join(runDir, 'benchmarks.svg');
  if (isCluster(plan)) {
    // The page stays the committed main run's, with this run as its Cluster section.
    const mainFile = join(resultsDir, 'summary.json');
    const main = JSON.parse(readFileSync(mainFile, 'utf8')) as Report;
    if (!docs) writeFileSync(svgFile, renderChart(main));
    await writeMarkdown(mdFile, renderMarkdown(main, 'benchmarks.svg', report));
  } else {
    writeFileSync(svgFile, renderChart(report));
    await writeMarkdown(mdFile, renderMarkdown(report, 'benchmarks.svg', committedCluster()));
  }
  log(`report: ${mdFile} (${durationS.toFixed(0)} s in all)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
