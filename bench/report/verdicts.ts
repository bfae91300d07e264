/**
 * The targets of issue 6, judged from one run's medians: met, missed (with the gap), or
 * not measured (with the reason).
 */
import type { Fig, PointSummary, ServerSummary } from '../summary.js';
import type { Report } from './markdown.js';

export interface Verdict {
  figure: string;
  goal: string;
  server: string;
  value: string;
  reference: string;
  met: boolean | null;
  gap: string;
}

export const fmt = {
  int: (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–'),
  ms: (x: number): string =>
    Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) : '–',
  us: (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–'),
  bytes: (x: number): string =>
    Number.isFinite(x) ? (x >= 10240 ? `${(x / 1024).toFixed(1)} KiB` : `${Math.round(x)} B`) : '–',
  s: (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : '–'),
  ratio: (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–'),
};

export const find = {
  point: (
    s: ServerSummary | undefined,
    n: number,
    rate: number | 'max',
  ): PointSummary | undefined =>
    rate === 'max'
      ? s?.saturation.find((p) => p.n === n)
      : s?.points.find((p) => p.n === n && p.offered === rate),
  join: (s: ServerSummary | undefined, n: number): Fig | undefined =>
    s?.join.find((j) => j.n === n)?.ms,
  register: (s: ServerSummary | undefined, n: number, c: number): Fig | undefined =>
    s?.register.find((r) => r.n === n && r.concurrency === c)?.ms,
  rss: (s: ServerSummary | undefined, n: number): Fig | undefined =>
    s?.rss.find((r) => r.n === n)?.perClientBytes,
};

/** A figure's median, or NaN when it is missing or no run of it was valid. */
function valid(f: Fig | undefined): number {
  return f && f.valid > 0 ? f.median : NaN;
}

function plugboards(r: Report): ServerSummary[] {
  // The two front-ends the targets name (not the flood variant, a baseline or a cluster).
  return r.servers.filter(
    (s) => s.available && (s.id === 'plugboard-line' || s.id === 'plugboard-irc'),
  );
}

function compare(
  figure: string,
  goal: string,
  p: ServerSummary,
  mine: number,
  theirs: number,
  show: (x: number) => string,
  factor: number,
  lowerIsBetter: boolean,
  refName: string,
  caveat = '',
): Verdict {
  const base = {
    figure,
    goal,
    server: p.label,
    value: show(mine),
    reference: `${refName} ${show(theirs)}`,
  };
  if (!Number.isFinite(mine) || !Number.isFinite(theirs))
    return { ...base, met: null, gap: 'not measured (no valid run on one side)' };
  const ratio = mine / theirs;
  const met = lowerIsBetter ? ratio <= factor : ratio >= factor;
  const gap = `${fmt.ratio(ratio)} of ${refName}${met ? '' : `, goal ${fmt.ratio(factor)}`}`;
  return { ...base, met, gap: caveat ? `${gap}; ${caveat}` : gap };
}

/** Saturation figures taken with the generator near its limit may be lower bounds: say so. */
function generatorCaveat(parts: Array<[string, PointSummary | undefined]>): string {
  const out: string[] = [];
  for (const [name, pt] of parts) {
    if (!pt || pt.genCpuPctMax <= 80) continue;
    const gen = pt.genCpuPctMax.toFixed(0);
    // Server core use: its CPU per delivery times deliveries per second.
    const server = (pt.cpuUsPerDelivery.median * pt.achieved.median) / 1e4;
    out.push(
      server >= 90
        ? `${name}: server at ${server.toFixed(0)}% and generator at ${gen}% of their cores`
        : `${name}'s figure is a lower bound (server at ${server.toFixed(0)}%, generator at ${gen}% of its core)`,
    );
  }
  return out.join('; ');
}

export function verdicts(r: Report): Verdict[] {
  const ng = r.servers.find((s) => s.id === 'ngircd' && s.available);
  const py = r.servers.find((s) => s.id === 'python-select' && s.available);
  const out: Verdict[] = [];
  // The issue's N = 1,000 and 5,000; a quick run judges its own smaller N the same way.
  const small = r.plan.loadNs[0] ?? 1000;
  const big = r.plan.loadNs[r.plan.loadNs.length - 1] ?? 5000;
  for (const p of plugboards(r)) {
    out.push(
      compare(
        `server CPU per delivery, 50k/s, N = ${fmt.int(small)}`,
        '≤ 0.8 × ngIRCd',
        p,
        valid(find.point(p, small, 50_000)?.cpuUsPerDelivery),
        valid(find.point(ng, small, 50_000)?.cpuUsPerDelivery),
        (x) => `${fmt.us(x)} µs`,
        0.8,
        true,
        'ngIRCd',
      ),
    );
    for (const n of [...new Set([small, big])])
      out.push(
        compare(
          `p99 latency, 50k/s, N = ${fmt.int(n)}`,
          '≤ ngIRCd',
          p,
          valid(find.point(p, n, 50_000)?.p99Ms),
          valid(find.point(ng, n, 50_000)?.p99Ms),
          (x) => `${fmt.ms(x)} ms`,
          1,
          true,
          'ngIRCd',
        ),
      );
    out.push(
      compare(
        `saturation deliveries/s, N = ${fmt.int(small)}`,
        '≥ 1.0 × ngIRCd',
        p,
        valid(find.point(p, small, 'max')?.achieved),
        valid(find.point(ng, small, 'max')?.achieved),
        (x) => `${fmt.int(x)}/s`,
        1,
        false,
        'ngIRCd',
        generatorCaveat([
          ['Plugboard', find.point(p, small, 'max')],
          ['ngIRCd', find.point(ng, small, 'max')],
        ]),
      ),
    );
    out.push(
      compare(
        `saturation deliveries/s, N = ${fmt.int(small)}`,
        '≥ 5 × Python select()',
        p,
        valid(find.point(p, small, 'max')?.achieved),
        valid(find.point(py, small, 'max')?.achieved),
        (x) => `${fmt.int(x)}/s`,
        5,
        false,
        'Python',
        generatorCaveat([
          ['Plugboard', find.point(p, small, 'max')],
          ['Python', find.point(py, small, 'max')],
        ]),
      ),
    );
    out.push(memoryVerdict(p));
    const join = valid(find.join(p, big));
    out.push({
      figure: `${fmt.int(big)} clients joining one room`,
      goal: '≤ 10 s',
      server: p.label,
      value: fmt.s(join),
      reference: `ngIRCd ${fmt.s(valid(find.join(ng, big)))}`,
      met: Number.isFinite(join) ? join <= 10_000 : null,
      gap: Number.isFinite(join)
        ? join <= 10_000
          ? ''
          : `${fmt.s(join - 10_000)} over`
        : 'not measured (no valid run)',
    });
    out.push(capacityVerdict(p));
  }
  return out;
}

/**
 * Idle memory is judged where the per-connection cost can be told apart from one-time
 * costs: at N >= JUDGED_FROM and by the slope between the two largest N. Below that, a few
 * MB of start-up garbage or heap slack that V8 has or has not yet returned divides into
 * thousands of bytes per client either way (a reading of minus 1.4 KB per client at
 * N = 1,000 once showed it); those figures are shown, not judged.
 */
const JUDGED_FROM = 10_000;

function memoryVerdict(p: ServerSummary): Verdict {
  const measured = p.rss.filter((x) => x.n >= 1000 && x.perClientBytes.valid > 0);
  const judged = measured.filter((x) => x.n >= JUDGED_FROM);
  const largest = measured[measured.length - 1];
  // What one more connection costs, without the one-time costs (compiled code, tables
  // sized on first use) that dominate at small N: the slope between the two largest N.
  const below = measured[measured.length - 2];
  const marginal =
    largest && below && largest.n > below.n
      ? ((largest.idleKb.median - below.idleKb.median) * 1024) / (largest.n - below.n)
      : NaN;
  const slope = Number.isFinite(marginal)
    ? `; marginal ${fmt.bytes(marginal)} per connection from ${fmt.int(below?.n ?? 0)} to ${fmt.int(largest?.n ?? 0)}`
    : '';
  const figures = judged.map((x) => x.perClientBytes.median);
  if (below && below.n >= JUDGED_FROM && Number.isFinite(marginal)) figures.push(marginal);
  const worst = Math.max(...figures);
  const small = measured.filter((x) => x.n < JUDGED_FROM);
  return {
    figure: 'idle memory per registered connection',
    goal: `≤ 4 KiB (judged at N ≥ ${fmt.int(JUDGED_FROM)} and on the slope)`,
    server: p.label,
    value:
      measured.map((x) => `${fmt.bytes(x.perClientBytes.median)} @${fmt.int(x.n)}`).join(', ') +
      slope +
      (small.length
        ? ` (${small.map((x) => `@${fmt.int(x.n)}`).join(', ')} shown, not judged)`
        : ''),
    reference: '',
    met: judged.length ? worst <= 4096 : null,
    gap: !judged.length
      ? `not measured at N ≥ ${fmt.int(JUDGED_FROM)}`
      : worst <= 4096
        ? ''
        : `worst ${fmt.bytes(worst)}, ${fmt.ratio(worst / 4096)} the goal`,
  };
}

function capacityVerdict(p: ServerSummary): Verdict {
  const top = [...p.capacity].sort((a, b) => b.n - a.n)[0];
  const base = {
    figure: 'concurrent connections, all still chatting',
    goal: `${fmt.int(p.maxClients)} (open-file limit)`,
    server: p.label,
    reference: '',
  };
  if (!top) return { ...base, value: '–', met: null, gap: 'not measured' };
  return {
    ...base,
    value: `${top.ok} of ${top.runs} runs held ${fmt.int(top.n)}`,
    met: top.n >= p.maxClients && top.ok === top.runs,
    gap: top.ok === top.runs ? '' : top.notes.slice(0, 2).join('; '),
  };
}
