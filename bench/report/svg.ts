/**
 * The benchmark chart: four small grouped-bar panels, written as plain SVG so the report
 * needs no plotting library. Colours are fixed per server so panels read together.
 */
import type { ServerSummary } from '../summary.js';
import type { Report } from './markdown.js';
import { find, fmt } from './verdicts.js';

const COLORS: Record<string, string> = {
  'plugboard-line': '#2563eb',
  'plugboard-irc': '#7c3aed',
  ngircd: '#ea580c',
  'python-select': '#6b7280',
};

interface Panel {
  title: string;
  groups: string[];
  /** values[series][group]; NaN leaves a gap. */
  values: number[][];
  show: (x: number) => string;
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round axis maximum: 1, 2 or 5 times a power of ten, at least `x`. */
function niceMax(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function panel(
  x0: number,
  y0: number,
  w: number,
  h: number,
  p: Panel,
  series: ServerSummary[],
): string {
  const out: string[] = [];
  const left = 56;
  const top = 28;
  const bottom = 34;
  const plotW = w - left - 12;
  const plotH = h - top - bottom;
  const max = niceMax(Math.max(0, ...p.values.flat().filter(Number.isFinite)));
  out.push(
    `<text x="${x0 + w / 2}" y="${y0 + 16}" text-anchor="middle" font-size="13" font-weight="600">${esc(p.title)}</text>`,
  );
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const y = y0 + top + plotH - (plotH * i) / 4;
    out.push(
      `<line x1="${x0 + left}" x2="${x0 + left + plotW}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`,
      `<text x="${x0 + left - 6}" y="${y + 4}" text-anchor="end" font-size="10" fill="#374151">${esc(p.show(v))}</text>`,
    );
  }
  const groupW = plotW / Math.max(1, p.groups.length);
  const barW = Math.min(28, (groupW * 0.8) / Math.max(1, series.length));
  p.groups.forEach((g, gi) => {
    const gx = x0 + left + gi * groupW + (groupW - barW * series.length) / 2;
    series.forEach((s, si) => {
      const v = p.values[si]?.[gi] ?? NaN;
      if (!Number.isFinite(v)) return;
      const bh = (plotH * v) / max;
      const bx = gx + si * barW;
      const by = y0 + top + plotH - bh;
      out.push(
        `<rect x="${bx.toFixed(1)}" y="${by.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${COLORS[s.id] ?? '#999'}"><title>${esc(`${s.label}, ${g}: ${p.show(v)}`)}</title></rect>`,
        `<text x="${(bx + barW / 2 - 1).toFixed(1)}" y="${(by - 3).toFixed(1)}" text-anchor="middle" font-size="9" fill="#111827">${esc(p.show(v))}</text>`,
      );
    });
    out.push(
      `<text x="${x0 + left + gi * groupW + groupW / 2}" y="${y0 + top + plotH + 16}" text-anchor="middle" font-size="11" fill="#374151">${esc(g)}</text>`,
    );
  });
  out.push(
    `<line x1="${x0 + left}" x2="${x0 + left}" y1="${y0 + top}" y2="${y0 + top + plotH}" stroke="#9ca3af"/>`,
  );
  return out.join('\n');
}

const compact = (x: number): string =>
  x >= 1e6
    ? `${(x / 1e6).toFixed(x >= 1e7 ? 0 : 1)}M`
    : x >= 1e3
      ? `${(x / 1e3).toFixed(0)}k`
      : x.toFixed(x < 10 ? 1 : 0);

export function renderChart(r: Report): string {
  const series = r.servers.filter((s) => s.available && COLORS[s.id]);
  const rates = r.plan.rates;
  const n = r.plan.loadNs[0] ?? 1000;
  const big = r.plan.loadNs[r.plan.loadNs.length - 1] ?? n;
  const memNs = [...new Set(series.flatMap((s) => s.rss.map((x) => x.n)))].sort((a, b) => a - b);
  const panels: Panel[] = [
    {
      title: `Saturation deliveries/s (higher is better)`,
      groups: r.plan.loadNs.map((k) => `N = ${fmt.int(k)}`),
      values: series.map((s) =>
        r.plan.loadNs.map((k) => find.point(s, k, 'max')?.achieved.median ?? NaN),
      ),
      show: compact,
    },
    {
      title: `Server CPU µs per delivery, N = ${fmt.int(n)} (lower is better)`,
      groups: rates.map((x) => `${compact(x)}/s`),
      values: series.map((s) =>
        rates.map((x) => find.point(s, n, x)?.cpuUsPerDelivery.median ?? NaN),
      ),
      show: (x) => x.toFixed(x < 10 ? 1 : 0),
    },
    {
      title: `p99 latency ms by offered rate, N = ${fmt.int(big)} (lower is better)`,
      groups: rates.map((x) => `${compact(x)}/s`),
      values: series.map((s) => rates.map((x) => find.point(s, big, x)?.p99Ms.median ?? NaN)),
      show: (x) => x.toFixed(x < 10 ? 1 : 0),
    },
    {
      title: 'Idle bytes per registered client (lower is better)',
      groups: memNs.map((k) => `N = ${compact(k)}`),
      values: series.map((s) =>
        memNs.map((k) => s.rss.find((x) => x.n === k)?.perClientBytes.median ?? NaN),
      ),
      show: compact,
    },
  ];
  const W = 980;
  const PW = W / 2;
  const PH = 270;
  const legendH = 30;
  const H = legendH + PH * 2 + 10;
  const legend = series
    .map((s, i) => {
      const x = 20 + i * 235;
      return `<rect x="${x}" y="10" width="12" height="12" fill="${COLORS[s.id]}"/><text x="${x + 18}" y="20" font-size="12">${esc(s.label)}</text>`;
    })
    .join('\n');
  const body = panels
    .map((p, i) => panel((i % 2) * PW, legendH + Math.floor(i / 2) * PH, PW, PH, p, series))
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif">
<rect width="100%" height="100%" fill="#ffffff"/>
${legend}
${body}
</svg>
`;
}
