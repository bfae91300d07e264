/**
 * Renders one run's summary as docs/benchmarks.md. Everything with a number in it comes
 * from the summary; the hand-written analysis (bench/report/analysis.md) is spliced in.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineInfo } from '../lib/machine.js';
import { repoRoot } from '../lib/paths.js';
import type { Plan } from '../plan.js';
import type { PointSummary, ServerSummary } from '../summary.js';
import type { ProfileSummary } from './profile.js';
import { clusterSection, clusterVerdicts } from './cluster.js';
import { cell, table } from './tables.js';
import { find, fmt, verdicts } from './verdicts.js';

export interface Report {
  plan: Plan;
  command: string;
  startedAt: string;
  durationS: number;
  machine: MachineInfo;
  servers: ServerSummary[];
  profile: ProfileSummary | null;
}

const GEN_FLAG = 80;

function available(r: Report): ServerSummary[] {
  return r.servers.filter((s) => s.available);
}

function machine(r: Report): string {
  const m = r.machine;
  return [
    `- Run: \`${r.command}\`, started ${r.startedAt}, took ${(r.durationS / 60).toFixed(1)} minutes ` +
      `(${r.plan.reps} run(s) per point, median reported).`,
    `- CPU: ${m.cpuModel}, ${m.cpus} cores; ${m.memoryGiB} GiB memory; ${m.kernel}.`,
    `- Node ${m.node}; ${m.ngircd}; ${m.python}.`,
    `- Open-file limit ${fmt.int(m.openFileLimit)} per process; \`net.core.somaxconn\` ${m.somaxconn}.`,
    `- Server pinned to core 0, load generator (and the orchestrator) to core 1, with \`taskset\`.`,
    '',
    '```',
    m.lscpu,
    '```',
  ].join('\n');
}

function verdictSection(r: Report, cluster: Report | null): string {
  const v = [...verdicts(r), ...clusterVerdicts(cluster)];
  if (v.length === 0) return '_No Plugboard front-end was available in this run._';
  return table(
    ['figure', 'goal', 'server', 'measured', 'reference', 'verdict', 'gap'],
    v.map((x) => [
      x.figure,
      x.goal,
      x.server,
      x.value,
      x.reference,
      x.met === null ? 'not measured' : x.met ? '**met**' : '**not met**',
      x.gap,
    ]),
  );
}

function registerTable(r: Report): string {
  const keys = [
    ...new Set(available(r).flatMap((s) => s.register.map((x) => `${x.n}@${x.concurrency}`))),
  ]
    .map((k) => k.split('@').map(Number) as [number, number])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return table(
    ['server', ...keys.map(([n, c]) => `N = ${fmt.int(n)}, concurrency ${c}`)],
    available(r).map((s) => [
      s.label,
      ...keys.map(([n, c]) => cell(find.register(s, n, c), (x) => `${fmt.int(x)} ms`)),
    ]),
  );
}

function joinTable(r: Report): string {
  const ns = r.plan.loadNs;
  return table(
    ['server', ...ns.map((n) => `N = ${fmt.int(n)}`)],
    available(r).map((s) => [
      s.label,
      ...ns.map((n) => (s.rooms ? cell(find.join(s, n), (x) => `${fmt.int(x)} ms`) : 'no rooms')),
    ]),
  );
}

function memoryTable(r: Report): string {
  const ns = [...new Set(available(r).flatMap((s) => s.rss.map((x) => x.n)))].sort((a, b) => a - b);
  return table(
    ['server', ...ns.map((n) => `N = ${fmt.int(n)}`)],
    available(r).map((s) => [
      s.label,
      ...ns.map((n) => {
        const x = s.rss.find((e) => e.n === n);
        if (!x) return n > s.maxClients ? `over its limit (${fmt.int(s.maxClients)})` : '–';
        const mib = cell(x.idleKb, (k) => `${(k / 1024).toFixed(0)} MiB`);
        // Results from before the steady-RSS rule have no settle time.
        const settled =
          Number.isFinite(x.settleMs?.median ?? NaN) && x.settleMs
            ? `, ${cell(x.settleMs, (ms) => `${(ms / 1000).toFixed(0)} s`)}`
            : '';
        return `${cell(x.perClientBytes, fmt.bytes)} (RSS ${mib}${settled})`;
      }),
    ]),
  );
}

function pointRow(label: string, p: PointSummary): string[] {
  const gen =
    p.genCpuPctMax > GEN_FLAG
      ? `**${p.genCpuPctMax.toFixed(0)}%** ⚠`
      : `${p.genCpuPctMax.toFixed(0)}%`;
  const offered = p.offered === 'max' ? 'max' : fmt.int(p.offered);
  return [
    label,
    offered,
    `${cell(p.achieved, fmt.int)}${p.overloaded ? ' (overloaded)' : ''}`,
    cell(p.cpuUsPerDelivery, fmt.us),
    cell(p.coreUsPerDelivery, fmt.us) +
      (p.interferencePctMax > 10 ? ` ⚑ ${p.interferencePctMax.toFixed(0)}% other` : ''),
    cell(p.p50Ms, fmt.ms),
    cell(p.p99Ms, fmt.ms),
    cell(p.maxMs, fmt.ms),
    cell(p.linesPerRead, (x) => x.toFixed(1)),
    gen,
  ];
}

const POINT_HEAD = [
  'server',
  'offered/s',
  'achieved/s',
  'CPU µs/delivery (process)',
  'core µs/delivery',
  'p50 ms',
  'p99 ms',
  'max ms',
  'lines/read',
  'generator CPU',
];

function ladderTables(r: Report): string {
  const out: string[] = [];
  for (const n of r.plan.loadNs) {
    const rows: string[][] = [];
    for (const s of available(r)) {
      if (s.id === 'plugboard-line-flood') continue;
      const points = [
        ...s.points.filter((p) => p.n === n),
        ...s.saturation.filter((p) => p.n === n),
      ];
      if (points.length === 0) {
        if (n > s.maxClients)
          rows.push([
            s.label,
            `N over its limit (${fmt.int(s.maxClients)}: ${s.maxClientsWhy})`,
            ...Array<string>(8).fill(''),
          ]);
        else rows.push([s.label, 'no valid run', ...Array<string>(8).fill('')]);
        continue;
      }
      for (const p of points) rows.push(pointRow(s.label, p));
    }
    out.push(`### N = ${fmt.int(n)} clients in one room\n\n${table(POINT_HEAD, rows)}`);
  }
  return out.join('\n\n');
}

/** User and kernel time and write calls per delivery at each fixed rate, per server. */
function splitTable(r: Report): string {
  const rows: string[][] = [];
  for (const n of r.plan.loadNs) {
    for (const rate of r.plan.rates) {
      for (const s of available(r)) {
        if (s.id === 'plugboard-line-flood') continue;
        const p = find.point(s, n, rate);
        if (!p) continue;
        rows.push([
          s.label,
          fmt.int(n),
          fmt.int(rate),
          cell(p.cpuUsPerDelivery, fmt.us),
          cell(p.userUsPerDelivery, fmt.us),
          cell(p.systemUsPerDelivery, fmt.us),
          cell(p.writeCallsPerDelivery, (x) => x.toFixed(2)),
        ]);
      }
    }
  }
  if (rows.length === 0) return '_Not measured in this run._';
  return table(
    ['server', 'N', 'offered/s', 'CPU µs/delivery', 'user µs', 'kernel µs', 'write calls/delivery'],
    rows,
  );
}

function floodTable(r: Report): string {
  const on = r.servers.find((s) => s.id === 'plugboard-line-flood' && s.available);
  const off = r.servers.find((s) => s.id === 'plugboard-line' && s.available);
  if (!on || !off) return '_Not measured in this run._';
  const n = r.plan.loadNs[0] as number;
  const rows: string[][] = [];
  for (const rate of [...r.plan.rates, 'max' as const]) {
    const a = find.point(off, n, rate);
    const b = find.point(on, n, rate);
    if (a) rows.push(pointRow('flood control off', a));
    if (b) rows.push(pointRow('flood control on', b));
  }
  return `Plugboard (line), N = ${fmt.int(n)}; "on" uses limits no benchmark client reaches, so this is the cost of the check itself.\n\n${table(POINT_HEAD, rows)}`;
}

function capacityTable(r: Report): string {
  return table(
    ['server', 'clients', 'runs holding all, every client chatting', 'pair check', 'notes'],
    available(r).flatMap((s) =>
      s.capacity.map((c) => [
        s.label,
        fmt.int(c.n),
        `${c.ok} of ${c.runs}`,
        cell(c.pairMs, (x) => `${fmt.int(x)} ms`),
        c.notes.slice(0, 2).join('; ').slice(0, 200),
      ]),
    ),
  );
}

function closingNote(r: Report): string {
  const parts: string[] = [];
  const n = 1000;
  for (const s of available(r)) {
    if (s.id === 'plugboard-line-flood') continue;
    const sat = find.point(s, n, 'max');
    const p50k = find.point(s, n, 50_000);
    const bits = [
      sat && `saturation ${fmt.int(sat.achieved.median)} deliveries/s`,
      p50k &&
        `${fmt.us(p50k.cpuUsPerDelivery.median)} µs CPU per delivery and p99 ${fmt.ms(p50k.p99Ms.median)} ms at 50k/s`,
      find.join(s, 5000) && `5,000 joins in ${fmt.s(find.join(s, 5000)?.median ?? NaN)}`,
      s.rss.length > 0 &&
        `${fmt.bytes(s.rss[s.rss.length - 1]?.perClientBytes.median ?? NaN)} per idle client at ${fmt.int(s.rss[s.rss.length - 1]?.n ?? NaN)}`,
    ].filter(Boolean);
    if (bits.length) parts.push(`- **${s.label}** (N = 1,000 unless stated): ${bits.join('; ')}.`);
  }
  return parts.join('\n');
}

function unavailable(r: Report): string {
  const missing = r.servers.filter((s) => !s.available);
  if (missing.length === 0) return '';
  return (
    '\nNot benchmarked in this run:\n\n' +
    missing.map((s) => `- ${s.label}: ${s.unavailableWhy}`).join('\n') +
    '\n'
  );
}

function failures(r: Report): string {
  const bad = r.servers.flatMap((s) => s.runs.filter((x) => !x.ok));
  if (bad.length === 0) return 'Every run passed every check.';
  return (
    `${bad.length} run(s) failed a check; their figures are marked and left out of medians where a valid run exists:\n\n` +
    bad
      .slice(0, 30)
      .map(
        (x) =>
          `- \`${x.label}\`: ${x.errors.slice(0, 2).join('; ').slice(0, 240) || 'a point failed its checks'}`,
      )
      .join('\n')
  );
}

function profileSection(r: Report): string {
  if (!r.profile) return '';
  return (
    '\n## CPU profile of Plugboard\n\n' +
    table(
      ['self %', 'file'],
      r.profile.byFile.map((f) => [f.selfPct.toFixed(1), f.file]),
    ) +
    '\n\n' +
    table(
      ['self %', 'function', 'where'],
      r.profile.top.map((t) => [t.selfPct.toFixed(1), `\`${t.fn}\``, t.where]),
    ) +
    '\n'
  );
}

function analysis(): string {
  const file = join(repoRoot, 'bench', 'report', 'analysis.md');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() + '\n' : '';
}

/** `cluster`: the committed cluster run (bench/results/cluster-summary.json), if any. */
export function renderMarkdown(r: Report, chart: string, cluster: Report | null = null): string {
  const p = r.plan;
  return `# Benchmarks

<!-- Generated by \`npm run bench\` (bench/report/markdown.ts) from bench/results/summary.json.
     Edit bench/report/analysis.md for the prose; rerun the benchmark for the numbers. -->

Plugboard against **ngIRCd** (a C IRC server, the same machine, the same generator, the
same run) and against the **classic Python \`select()\` chat server** it grew out of
(\`bench/baselines/select_chat.py\`). Each server is started fresh for every run, pinned to
core 0; the load generator gets core 1. Every point ran ${p.reps} time(s); tables show
medians. A point counts only if every message reached every receiver (delivered ==
expected), nobody disconnected and no receiver saw a sender's messages out of order.

![Benchmark chart](${chart})

## Machine and command

${machine(r)}
${unavailable(r)}
## Targets

${verdictSection(r, cluster)}

## Figures

A *delivery* is one chat line arriving at one receiver: one message to a room of N people
is N − 1 deliveries. *CPU µs/delivery (process)* is the server's utime + stime from
/proc/PID/stat over the measurement window divided by the deliveries in it; *core
µs/delivery* is everything core 0 did in that window (the process, the kernel's softirq
network work, and anything else that ran there). *lines/read* is deliveries per generator
socket read: how much the server coalesced its writes. Generator CPU above ${GEN_FLAG}% of
its core is marked ⚠: there the generator, not only the server, limits the figure. ⚑
marks a point where more than 10% of core 0 went to other processes or to the
hypervisor (the machine is shared): its latency and core figures are disturbed.

### Connect and register

N clients connect and register (line: choose a name; IRC: NICK/USER until end of MOTD),
at most *concurrency* at a time.

${registerTable(r)}

### Join one room

All N clients join one room, 200 at a time, until the last one has its member list and a
message sent after the joins has reached all of them (so every join announcement was
delivered).

${joinTable(r)}

### Idle memory per registered client

Server RSS once N clients are registered and idle, minus RSS before the first connection,
divided by N (read in the capacity runs and the smallest load size). Idle means at least
${(p.idleSettleMs / 1000).toFixed(0)} s of quiet and then RSS steady (within 0.5 %) for ${((p.rssSteadyWindowMs ?? 10_000) / 1000).toFixed(0)} s; the
time that took is in brackets. The wait is there because a garbage-collected server returns
what the registration burst left behind some seconds after it stops (V8's memory reducer,
about 8 s after allocation stops, then a few more collections): read at a fixed 12 s,
Plugboard's figure at 19,500 swung between 2.7 and 4.9 KB per client from run to run,
depending on whether the reading fell before or after that drop. A C server is steady at once.

${memoryTable(r)}

### Latency and CPU at fixed offered rates, and saturation

${p.senders} senders share the offered rate; each message carries its send time, and
${p.sampleReceivers} receivers spread over the room time every line (the others only count).
${(p.warmupMs / 1000).toFixed(1)} s warm-up, ${(p.measureMs / 1000).toFixed(1)} s measured.
An offered rate the server cannot sustain is capped at one second of backlog and marked
*overloaded*. *max* is saturation: senders keep ${p.saturation.window} messages in flight
and send more as soon as deliveries come back.

${ladderTables(r)}

### Where the server's CPU time goes

The same points split into user and kernel time (utime and stime of /proc/PID/stat; each
column is its own median, so they need not add up exactly), and write-family system
calls per delivery (syscw of /proc/PID/io: write and writev; Python's sendall uses sendto, which it does not count, hence its 0). Kernel time includes
the receiving side of loopback TCP, which runs in the sender's system call. Other system
calls (epoll_wait, epoll_ctl) are not counted here; see the analysis below.

${splitTable(r)}

### Flood control on

${floodTable(r)}

### Many connections, all still chatting

The server is filled to N clients (${p.fillConcurrency} connecting at a time), left idle,
then every client sends one private message to the next: N deliveries.

${capacityTable(r)}

### Validity

${failures(r)}
${profileSection(r)}
${clusterSection(cluster)}
${analysis()}
## Closing note: medians from this run

${closingNote(r)}

## How to run

\`\`\`sh
npm run bench               # the full plan above; rewrites this page and bench/results/summary.json
npm run bench -- --quick    # smoke check, one run per point, small N (under two minutes)
npm run bench -- --servers plugboard-line,ngircd --n 1000 --kinds load   # a subset
npm run bench -- --profile --servers plugboard-line --n 1000 --kinds load  # + node --cpu-prof
npm run bench -- --cluster          # the Cluster section: two nodes on Redis and on a Redis Cluster, 100,000 over --workers (~16 min)
npm run bench -- --cluster --quick  # its smoke check (about four minutes)
# only the two nodes on a 3-master Redis Cluster (--bus redis+cluster://) against one node (~4 min)
npm run bench -- --cluster --servers plugboard-line,plugboard-cluster2-rc --kinds load
# a few seconds per point, to check the Redis Cluster target works (not a measurement)
npm run bench -- --cluster --quick --servers plugboard-cluster2-rc --n 200 --room-sizes none --measure 1 --rates 5000
# this build against another checkout's (interleaved runs; see the analysis)
npm run bench -- --baseline ../old --servers plugboard-line,plugboard-line-base --n 1000 --rates 50000 --no-saturation
\`\`\`

Raw per-run results, server logs and profiles go to \`bench/results/raw/\` (not committed).
ngIRCd is installed with \`apt-get install ngircd\` when missing; its throwaway config
(bench/servers/ngircd.ts) listens on 127.0.0.1 on a free port with \`MaxConnections\`,
\`MaxConnectionsIP\` and \`MaxJoins\` unlimited, \`MaxNickLength\` 30, DNS and ident lookups
off and \`MaxPenaltyTime = 0\`, which switches its flood penalties off.
`;
}
