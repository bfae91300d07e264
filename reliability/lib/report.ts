/** The summary the runner prints: one row per scenario, then each failed check and finding. */
import type { ScenarioResult } from './scenario.js';

function short(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (typeof v === 'string') return v.length > 40 ? `${v.slice(0, 37)}...` : v;
  return JSON.stringify(v);
}

/** The headline figures of a result: scalar ones only, at most eight. */
function headline(r: ScenarioResult): string {
  return Object.entries(r.figures)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')
    .slice(0, 8)
    .map(([k, v]) => `${k}=${short(v)}`)
    .join(' ');
}

export function renderTable(results: ScenarioResult[]): string {
  const rows = results.map((r) => [
    r.id,
    r.verdict.toUpperCase(),
    `${(r.durationMs / 1000).toFixed(1)}/${(r.boundMs / 1000).toFixed(0)} s`,
    `${r.checks.filter((c) => c.ok).length}/${r.checks.length}`,
    headline(r),
  ]);
  const head = ['scenario', 'verdict', 'time/bound', 'checks', 'figures'];
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const fmt = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  const out = [fmt(head), fmt(widths.map((w) => '-'.repeat(w)))];
  for (const row of rows) out.push(fmt(row));
  for (const r of results) {
    const failed = r.checks.filter((c) => !c.ok);
    if (failed.length === 0 && r.findings.length === 0 && !r.error) continue;
    out.push('', `${r.id} (seed ${r.seed}):`);
    for (const c of failed) out.push(`  FAIL ${c.name}${c.detail ? `: ${c.detail}` : ''}`);
    for (const f of r.findings) out.push(`  FINDING ${f}`);
    if (r.verdict === 'skip') out.push(`  skipped: ${r.error}`);
  }
  return out.join('\n');
}
