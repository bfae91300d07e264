/**
 * `node dist/bench/report/compare.js SUMMARY.json`: the before/after table of a
 * `--baseline` run, for the analysis. Each target X is set against X-base (the same
 * target served by the baseline's build): CPU per delivery at every fixed rate and idle
 * memory per connection at every N, as the median and the range over runs, and the
 * ratio of the medians (after / before).
 */
import { readFileSync } from 'node:fs';
import type { Fig, ServerSummary } from '../summary.js';
import type { Report } from './markdown.js';

function show(f: Fig | undefined, digits: number): string {
  if (!f || f.runs === 0) return '–';
  const v = f.values.filter(Number.isFinite);
  const d = (x: number): string => x.toFixed(digits);
  const range = v.length > 1 ? ` (${d(Math.min(...v))}–${d(Math.max(...v))})` : '';
  const validity = f.valid === f.runs ? '' : ` [${f.valid}/${f.runs} valid]`;
  return `${d(f.median)}${range}${validity}`;
}

function ratio(after: Fig | undefined, before: Fig | undefined): string {
  if (!after || !before) return '–';
  const r = after.median / before.median;
  return Number.isFinite(r) ? `${r.toFixed(3)}×` : '–';
}

export function compareTable(r: Report): string {
  const rows: string[][] = [];
  const byId = new Map(r.servers.map((s) => [s.id, s]));
  for (const after of r.servers) {
    const before: ServerSummary | undefined = byId.get(`${after.id}-base`);
    if (!before || after.id.endsWith('-base')) continue;
    for (const p of after.points) {
      const q = before.points.find((x) => x.n === p.n && x.offered === p.offered);
      const flag = Math.max(p.interferencePctMax, q?.interferencePctMax ?? 0);
      rows.push([
        after.label,
        `CPU µs/delivery, N = ${p.n}, ${p.offered}/s`,
        show(q?.cpuUsPerDelivery, 2),
        show(p.cpuUsPerDelivery, 2),
        ratio(p.cpuUsPerDelivery, q?.cpuUsPerDelivery),
        // A starved server batches (more lines per write), which lowers its CPU per delivery.
        `lines/read ${show(q?.linesPerRead, 1)} / ${show(p.linesPerRead, 1)}` +
          (flag > 10 ? `; ⚑ up to ${flag.toFixed(0)}% of core 0 other work` : ''),
      ]);
    }
    for (const m of after.rss) {
      const q = before.rss.find((x) => x.n === m.n);
      rows.push([
        after.label,
        `idle bytes per connection, N = ${m.n}`,
        show(q?.perClientBytes, 0),
        show(m.perClientBytes, 0),
        ratio(m.perClientBytes, q?.perClientBytes),
        `settled after ${show(q?.settleMs, 0)} / ${show(m.settleMs, 0)} ms`,
      ]);
    }
  }
  const line = (c: string[]): string => `| ${c.join(' | ')} |`;
  return [
    line([
      'server',
      'figure',
      'before: median (range)',
      'after: median (range)',
      'after / before',
      'notes',
    ]),
    line(['---', '---', '---', '---', '---', '---']),
    ...rows.map(line),
  ].join('\n');
}

const file = process.argv[2];
if (file && import.meta.url.endsWith(process.argv[1]?.split('/').pop() ?? '\0')) {
  const r = JSON.parse(readFileSync(file, 'utf8')) as Report;
  console.log(`${r.command}\nstarted ${r.startedAt}, ${(r.durationS / 60).toFixed(1)} min\n`);
  console.log(compareTable(r));
}
