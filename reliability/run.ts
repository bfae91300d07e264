/**
 * `npm run soak [-- --quick]` and `npm run chaos [-- --quick]`: the reliability suite.
 *
 *   node dist/reliability/run.js soak|chaos [--quick] [--only id,id] [--seed N]
 *
 * Runs each scenario of the suite against real `plugboard serve` children on loopback,
 * each within its time bound, prints a summary table and writes the results as JSON under
 * .reliability-results/ (gitignored). Exit code 1 when any scenario failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resultsDir } from './lib/paths.js';
import { renderTable } from './lib/report.js';
import { makeContext, SkipScenario, type ScenarioResult, type Suite } from './lib/scenario.js';
import { killAllServers } from './lib/server.js';
import { scenarios } from './scenarios/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    seed: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

const suite = positionals[0] as Suite | undefined;
if (values.help || (suite !== 'soak' && suite !== 'chaos')) {
  const list = scenarios.map((s) => `  ${s.suite.padEnd(6)} ${s.id.padEnd(14)} ${s.title}`);
  console.log(`Usage: node dist/reliability/run.js soak|chaos [--quick] [--only ID,ID] [--seed N]
  (npm run soak -- --quick, npm run chaos -- --quick)
  --quick   each scenario in a few minutes at most (the default mode is bounded too)
  --only    run only these scenarios
  --seed    the random seed (each scenario prints and records the one it used)
Scenarios:
${list.join('\n')}`);
  process.exit(values.help ? 0 : 2);
}

const only = values.only ? new Set(values.only.split(',')) : null;
const chosen = scenarios.filter((s) => (only ? only.has(s.id) : s.suite === suite));
if (chosen.length === 0) {
  console.error(`no scenario matches ${values.only}`);
  process.exit(2);
}
const seed = values.seed === undefined ? undefined : Number(values.seed);
const quick = values.quick;
const started = Date.now();
const log = (line: string): void => {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(7);
  console.log(`[${t}s] ${line}`);
};
// A stray error in a scenario's background work must not end the whole run silently.
process.on('unhandledRejection', (err) => log(`unhandled rejection: ${String(err)}`));

const results: ScenarioResult[] = [];
for (const s of chosen) {
  const { ctx, result } = makeContext(s, quick, seed, log);
  log(
    `== ${s.id}: ${s.title} (bound ${(result.boundMs / 1000).toFixed(0)} s, seed ${result.seed})`,
  );
  let timer: NodeJS.Timeout | undefined;
  const t0 = Date.now();
  try {
    await Promise.race([
      s.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`exceeded its time bound of ${result.boundMs / 1000} s`)),
          result.boundMs,
        );
      }),
    ]);
  } catch (err) {
    if (err instanceof SkipScenario) {
      result.verdict = 'skip';
      result.error = err.message;
    } else {
      result.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      result.checks.push({ name: 'ran to the end', ok: false, detail: String(err) });
    }
  } finally {
    clearTimeout(timer);
    killAllServers();
  }
  result.durationMs = Date.now() - t0;
  if (result.verdict !== 'skip') {
    result.verdict = result.checks.length > 0 && result.checks.every((c) => c.ok) ? 'pass' : 'fail';
  }
  log(`== ${s.id}: ${result.verdict.toUpperCase()} in ${(result.durationMs / 1000).toFixed(1)} s`);
  results.push(result);
}

const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  kernel: `${os.type()} ${os.release()}`,
  node: process.version,
};
console.log('');
console.log(renderTable(results));
mkdirSync(resultsDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const file = join(resultsDir, `${suite}${quick ? '-quick' : ''}-${stamp}.json`);
writeFileSync(
  file,
  JSON.stringify(
    { suite, quick, started: new Date(started).toISOString(), machine, results },
    null,
    2,
  ),
);
console.log(`\nresults: ${file}`);
process.exit(results.some((r) => r.verdict === 'fail') ? 1 : 0);
