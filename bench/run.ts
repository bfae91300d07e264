/**
 * `npm run bench [-- --quick] [-- --servers a,b] [-- --reps N] [-- --profile]`
 *
 * Runs the plan against every available server (one fresh server per run, pinned to
 * core 0; one fresh generator per run, pinned to core 1), writes the raw results and a
 * summary under bench/results/, and renders docs/benchmarks.md with its chart.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RunResult } from './gen/types.js';
import { machineInfo } from './lib/machine.js';
import { docsDir, rawDir, resultsDir } from './lib/paths.js';
import { GENERATOR_CORE, runOnce, type RunParams } from './orchestrate.js';
import { fullPlan, quickPlan, type Plan } from './plan.js';
import { summarizeProfiles } from './report/profile.js';
import { renderMarkdown, type Report } from './report/markdown.js';
import { renderChart } from './report/svg.js';
import { summarize, type Job } from './summary.js';
import { candidates, probe } from './targets.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    servers: { type: 'string' },
    reps: { type: 'string' },
    n: { type: 'string' },
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
  --servers LIST   comma-separated ids: plugboard-line, plugboard-irc, plugboard-line-flood,
                   ngircd, python-select, plugboard-cluster2 (two line nodes on one throwaway
                   redis-server; load runs only) (default: all that start)
  --reps N         repetitions per point (default: 3, quick: 1)
  --n LIST         client counts for the load runs instead of the plan's (e.g. 1000,5000)
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
  // Repetition-major order, so slow drift on the machine touches every server alike.
  for (let rep = 1; rep <= plan.reps; rep++) {
    for (const target of targets) {
      const fits = (n: number): boolean => n <= target.maxClients;
      const takes = (kind: Job['kind']): boolean => !target.kinds || target.kinds.includes(kind);
      const conc = plan.fillConcurrency;
      if (takes('load'))
        for (const n of plan.loadNs.filter(fits)) jobs.push({ target, kind: 'load', n, conc, rep });
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
  const memory = job.kind === 'capacity' || (job.kind === 'load' && job.n === plan.loadNs[0]);
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
  await writeMarkdown(join(docsDir, 'benchmarks.md'), renderMarkdown(report, 'benchmarks.svg'));
  log(
    `report: ${join(docsDir, 'benchmarks.md')} re-rendered from ${join(resultsDir, 'summary.json')}`,
  );
}

async function main(): Promise<void> {
  if (flags.render) return renderOnly();
  pinSelf();
  raiseSomaxconn();
  const plan = flags.quick ? quickPlan : fullPlan;
  if (flags.reps) plan.reps = Math.max(1, Number(flags.reps));
  if (flags.n) plan.loadNs = flags.n.split(',').map(Number);
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
  let all = candidates(log);
  if (wanted) all = all.filter((t) => wanted.includes(t.id));
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
  // Only a complete full run replaces the committed summary and docs/benchmarks.md.
  const docs =
    !flags['no-docs'] &&
    (flags.docs ||
      (plan.name === 'full' &&
        !flags.profile &&
        !wanted &&
        !flags.n &&
        !flags.rates &&
        !flags['no-saturation'] &&
        !flags.measure &&
        !kinds));
  mkdirSync(resultsDir, { recursive: true });
  const summaryFile = docs
    ? join(resultsDir, 'summary.json')
    : plan.name === 'quick' && !flags.profile
      ? join(resultsDir, 'quick-summary.json')
      : join(runDir, 'summary.json');
  writeFileSync(summaryFile, JSON.stringify(report, null, 1) + '\n');
  log(`summary: ${summaryFile}`);
  const mdFile = docs ? join(docsDir, 'benchmarks.md') : join(runDir, 'benchmarks.md');
  const svgFile = docs ? join(docsDir, 'benchmarks.svg') : join(runDir, 'benchmarks.svg');
  writeFileSync(svgFile, renderChart(report));
  await writeMarkdown(mdFile, renderMarkdown(report, 'benchmarks.svg'));
  log(`report: ${mdFile} (${durationS.toFixed(0)} s in all)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
