/**
 * What a scenario is: an attack with a time bound, checks that make its verdict, and the
 * figures it measured. The runner gives each one a context; loops inside a scenario stop
 * when `ctx.expired()` says the bound is near, so every loop is bounded in time as well
 * as in count.
 */
import { randomSeed, Rng } from './rng.js';

export type Suite = 'soak' | 'chaos';
export type Verdict = 'pass' | 'fail' | 'skip';

export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface ScenarioResult {
  id: string;
  title: string;
  suite: Suite;
  verdict: Verdict;
  durationMs: number;
  boundMs: number;
  seed: number;
  checks: Check[];
  figures: Record<string, unknown>;
  /** Defects found, each with how to reproduce it. */
  findings: string[];
  error?: string;
}

export interface Context {
  quick: boolean;
  seed: number;
  rng: Rng;
  /** Time left before the scenario's bound (minus a margin for cleaning up). */
  remainingMs(): number;
  expired(): boolean;
  log(line: string): void;
  check(name: string, ok: boolean, detail?: string): boolean;
  figure(name: string, value: unknown): void;
  finding(text: string): void;
  skip(reason: string): void;
}

export interface Scenario {
  id: string;
  title: string;
  suite: Suite;
  /** The time bound: the scenario is stopped and failed past it. */
  boundMs(quick: boolean): number;
  run(ctx: Context): Promise<void>;
}

export class SkipScenario extends Error {}

export function makeContext(
  s: Scenario,
  quick: boolean,
  seed: number | undefined,
  log: (line: string) => void,
): { ctx: Context; result: ScenarioResult; started: number } {
  const started = Date.now();
  const boundMs = s.boundMs(quick);
  const actualSeed = seed ?? randomSeed();
  const result: ScenarioResult = {
    id: s.id,
    title: s.title,
    suite: s.suite,
    verdict: 'pass',
    durationMs: 0,
    boundMs,
    seed: actualSeed,
    checks: [],
    figures: {},
    findings: [],
  };
  // Leave a tenth of the bound (at most 30 s) for the scenario's own cleanup and verdict.
  const margin = Math.min(30_000, boundMs / 10);
  const ctx: Context = {
    quick,
    seed: actualSeed,
    rng: new Rng(actualSeed),
    remainingMs: () => started + boundMs - margin - Date.now(),
    expired: () => Date.now() > started + boundMs - margin,
    log: (line) => log(`[${s.id}] ${line}`),
    check: (name, ok, detail) => {
      result.checks.push(detail === undefined ? { name, ok } : { name, ok, detail });
      log(`[${s.id}] ${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
      return ok;
    },
    figure: (name, value) => {
      result.figures[name] = value;
    },
    finding: (text) => {
      result.findings.push(text);
      log(`[${s.id}] FINDING ${text}`);
    },
    skip: (reason) => {
      throw new SkipScenario(reason);
    },
  };
  return { ctx, result, started };
}
