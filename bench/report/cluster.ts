/**
 * The Cluster section of docs/benchmarks.md and its rows in the Targets table (issue 13),
 * from the cluster run's summary (bench/results/cluster-summary.json, `--cluster`):
 * one room over two nodes on one Redis against the same room on one node, Redis's work
 * per room message at several room sizes, and the scale run over `--workers`.
 */
import type { ScaleResult } from '../scale.js';
import type { Fig, PointSummary, ServerSummary } from '../summary.js';
import type { Report } from './markdown.js';
import { cell, table } from './tables.js';
import { find, fmt, type Verdict } from './verdicts.js';

/** Goal of issue 13: the cluster's CPU per delivery within 1.25× one node's. */
export const CLUSTER_CPU_FACTOR = 1.25;
/** Goal of issue 13: this many registered connections on one host. */
export const SCALE_GOAL = 100_000;

/** "8.10 (7.95–8.40)": the median and the range over runs, when there is more than one. */
function spread(f: Fig | undefined, show: (x: number) => string): string {
  if (!f || f.runs === 0) return '–';
  const v = f.values.filter(Number.isFinite);
  const range = v.length > 1 ? ` (${show(Math.min(...v))}–${show(Math.max(...v))})` : '';
  return cell(f, show) + range;
}

function valid(f: Fig | undefined): number {
  return f && f.valid > 0 ? f.median : NaN;
}

interface Sides {
  single: ServerSummary | undefined;
  cluster: ServerSummary | undefined;
  /** The same two nodes with the bus on a 3-master Redis Cluster. */
  rc: ServerSummary | undefined;
  workers: ServerSummary | undefined;
}

function sides(r: Report): Sides {
  const get = (id: string): ServerSummary | undefined =>
    r.servers.find((s) => s.id === id && s.available);
  return {
    single: get('plugboard-line'),
    cluster: get('plugboard-cluster2'),
    rc: get('plugboard-cluster2-rc'),
    workers: get('plugboard-workers'),
  };
}

const N = 1000;

/** The Targets table's rows for issue 13. */
export function clusterVerdicts(r: Report | null): Verdict[] {
  if (!r) return [];
  const { single, cluster, workers } = sides(r);
  const out: Verdict[] = [];
  const n = r.plan.loadNs[0] ?? N;
  const a = valid(find.point(single, n, 50_000)?.cpuUsPerDelivery);
  const b = valid(find.point(cluster, n, 50_000)?.cpuUsPerDelivery);
  const ratio = b / a;
  out.push({
    figure: `cluster CPU per delivery, 50k/s, N = ${fmt.int(n)} (both nodes)`,
    goal: `≤ ${CLUSTER_CPU_FACTOR} × one node`,
    server: cluster?.label ?? 'Plugboard cluster (2 nodes)',
    value: `${fmt.us(b)} µs`,
    reference: `one node ${fmt.us(a)} µs`,
    met: Number.isFinite(ratio) ? ratio <= CLUSTER_CPU_FACTOR : null,
    gap: Number.isFinite(ratio)
      ? `${fmt.ratio(ratio)} of one node${ratio <= CLUSTER_CPU_FACTOR ? '' : `, goal ${fmt.ratio(CLUSTER_CPU_FACTOR)}`}`
      : 'not measured (no valid run on one side)',
  });
  const best = [...(workers?.scale ?? [])].sort((x, y) => y.registered - x.registered)[0];
  out.push({
    figure: 'registered connections on one host, all receiving',
    goal: `${fmt.int(SCALE_GOAL)}`,
    server: workers?.label ?? 'Plugboard --workers',
    value: best
      ? `${fmt.int(best.registered)} over ${best.workers} workers, ${best.checks.filter((c) => c.ok).length} of ${best.checks.length} room-wide messages reached all`
      : '–',
    reference: '',
    met: best ? best.ok && best.registered >= SCALE_GOAL : null,
    gap: !best
      ? 'not measured'
      : best.ok && best.registered >= SCALE_GOAL
        ? ''
        : best.errors.slice(0, 2).join('; ') || `${fmt.int(best.registered)} reached`,
  });
  return out;
}

function disturbed(p: PointSummary): string {
  return p.interferencePctMax > 10 ? ` ⚑ ${p.interferencePctMax.toFixed(0)}% other` : '';
}

function comparisonTable(r: Report, s: Sides): string {
  const n = r.plan.loadNs[0] ?? N;
  const rows: string[][] = [];
  for (const rate of [...r.plan.rates, 'max' as const]) {
    const one = find.point(s.single, n, rate);
    const offered = rate === 'max' ? 'max' : fmt.int(rate);
    if (one)
      rows.push([
        'one node',
        offered,
        spread(one.achieved, fmt.int),
        spread(one.p99Ms, fmt.ms),
        spread(one.cpuUsPerDelivery, fmt.us) + disturbed(one),
        '',
        '–',
        '–',
        '',
      ]);
    const sides: Array<[string, PointSummary | undefined]> = [
      ['two nodes + Redis', find.point(s.cluster, n, rate)],
      ['two nodes + Redis Cluster (3 masters)', find.point(s.rc, n, rate)],
    ];
    for (const [name, two] of sides) {
      if (!two) continue;
      const ratio = one ? valid(two.cpuUsPerDelivery) / valid(one.cpuUsPerDelivery) : NaN;
      const redis = two.redis;
      // Redis's CPU per delivery, to add to the nodes' for the whole cluster's cost.
      const redisPerDelivery =
        redis && two.achieved.median > 0 ? (redis.cpuPct.median * 1e4) / two.achieved.median : NaN;
      rows.push([
        name,
        offered,
        spread(two.achieved, fmt.int),
        spread(two.p99Ms, fmt.ms),
        spread(two.cpuUsPerDelivery, fmt.us) + disturbed(two),
        fmt.ratio(ratio),
        redis ? `${spread(redis.cpuUsPerMessage, (x) => x.toFixed(0))} µs` : '–',
        fmt.us(redisPerDelivery),
        (two.nodeCpuPct ?? []).map((x) => `${x.toFixed(0)}%`).join(' / '),
      ]);
    }
  }
  if (rows.length === 0) return '_Not measured in this run._';
  return table(
    [
      'server',
      'offered/s',
      'achieved/s',
      'p99 ms',
      'CPU µs/delivery (nodes)',
      'vs one node',
      'Redis CPU per room message',
      'Redis µs/delivery',
      'node split',
    ],
    rows,
  );
}

/**
 * Redis's commands per room message for one cluster target, by room size; a Redis Cluster
 * adds each master's share of Redis's CPU and its commands per message (the room's
 * master marked), which shows that one shard does a room's work.
 */
function commandsTable(r: Report, c: ServerSummary | undefined): string {
  if (!c) return '_Not measured in this run._';
  const shard = c.redisShard;
  const rows: string[][] = [];
  const measureS = r.plan.measureMs / 1000;
  const points = [...c.points, ...c.saturation].sort(
    (a, b) =>
      a.n - b.n || (a.offered === 'max' ? 1 : b.offered === 'max' ? -1 : a.offered - b.offered),
  );
  for (const p of points) {
    const redis = p.redis;
    if (!redis) continue;
    const idle = c.redisIdle?.find((x) => x.n === p.n)?.commandsPerSecond.median ?? NaN;
    // The background (leases, probes) that fell into the window, per message of it.
    const background = (idle * measureS) / redis.messages.median;
    rows.push([
      fmt.int(p.n),
      p.offered === 'max' ? 'max' : fmt.int(p.offered),
      fmt.int(redis.messages.median / measureS),
      cell(redis.commandsPerMessage, (x) => x.toFixed(2)),
      Number.isFinite(background) ? (redis.commandsPerMessage.median - background).toFixed(2) : '–',
      cell(redis.scriptsPerMessage, (x) => x.toFixed(2)),
      redis.byCommand
        .filter(([, k]) => k >= 0.05)
        .map(([name, k]) => `${name} ${k.toFixed(2)}`)
        .join(', '),
      Number.isFinite(idle) ? idle.toFixed(1) : '–',
      ...(shard ? [masterSplit(redis, shard.master)] : []),
    ]);
  }
  if (rows.length === 0) return '_Not measured in this run._';
  return table(
    [
      'room size N',
      'offered deliveries/s',
      'room messages/s',
      'Redis commands per message',
      'net of idle background',
      'scripts per message',
      'by command (≥ 0.05)',
      'idle commands/s',
      ...(shard ? ['per master: CPU share, commands/message (room’s master in bold)'] : []),
    ],
    rows,
  );
}

/** "**m1 96% 5.02** / m0 2% 0.01 / m2 2% 0.01": the room's master first and in bold. */
function masterSplit(redis: NonNullable<PointSummary['redis']>, roomMaster: number): string {
  const cpu = redis.masterCpuPct ?? [];
  const cmds = redis.masterCommandsPerMessage ?? [];
  const order = [roomMaster, ...cpu.map((_, i) => i).filter((i) => i !== roomMaster)];
  return order
    .filter((i) => i < cpu.length)
    .map((i) => {
      const text = `m${i} ${(cpu[i] ?? NaN).toFixed(0)}% ${(cmds[i] ?? NaN).toFixed(2)}`;
      return i === roomMaster ? `**${text}**` : text;
    })
    .join(' / ');
}

/** The Redis Cluster subsection: where the room lives, and its commands per message. */
function redisClusterPart(r: Report, s: Sides): string {
  const c = s.rc;
  const shard = c?.redisShard;
  const where = shard
    ? `The room's keys and channel share one hash tag (\`${shard.key}\`), so one slot (${shard.slot}) on one master (m${shard.master}) holds them: its ordering script and its sharded publish (\`SPUBLISH\`) run there, and the other two masters see only the nodes' own keys (leases, presence).`
    : '';
  return `### The same two nodes on a Redis Cluster

The two nodes of the one-Redis case, with the bus on a throwaway 3-master Redis Cluster
(\`--bus redis+cluster://…\`, no replicas, no persistence; the masters pinned to core 0
with the nodes): its rows in the table above are *two nodes + Redis Cluster (3 masters)*,
where the Redis columns add up all three masters' \`used_cpu_user\` + \`used_cpu_sys\`. Below,
commands per room message summed over the masters, as for one Redis, and each master's
share. ${where} \`npm run bench -- --cluster --servers plugboard-cluster2-rc\` measures it alone.

${commandsTable(r, c)}`;
}

function scaleTable(list: ScaleResult[] | undefined): string {
  if (!list || list.length === 0) return '_Not measured in this run._';
  const rows = list.map((x) => [
    fmt.int(x.n),
    `${x.workers} + primary`,
    String(x.generators),
    fmt.int(x.registered),
    `${fmt.s(x.connectMs)} (server CPU ${fmt.s(x.serverCpuMs)}, primary ${fmt.s(x.primaryCpuMs)}${Number.isFinite(x.workerRunQueueWaitPct) ? `; workers waited for a CPU ${x.workerRunQueueWaitPct.toFixed(0)}% of it` : ''})`,
    `${(x.rssIdleKb / 1024).toFixed(0)} MiB`,
    fmt.bytes(x.rssPerConnectionBytes),
    fmt.bytes(x.addedPerConnectionBytes),
    `${Math.max(0, ...x.perWorker.map((w) => w.fds)).toLocaleString('en-US')} of ${fmt.int(x.openFileLimit)}`,
    x.checks
      .map((c) => `${fmt.int(c.delivered)}/${fmt.int(c.expected)} in ${fmt.int(c.ms)} ms`)
      .join('; ') || '–',
    x.ok ? 'ok' : `**failed**: ${x.errors.slice(0, 2).join('; ').slice(0, 200)}`,
  ]);
  return table(
    [
      'connections',
      'server processes',
      'generator processes',
      'registered',
      'time to connect all',
      'server RSS (all processes)',
      'RSS / connection',
      'added / connection',
      'descriptors, fullest worker',
      'room-wide message delivered',
      'result',
    ],
    rows,
  );
}

function machineLine(r: Report): string {
  const m = r.machine;
  return (
    `Run: \`${r.command}\`, started ${r.startedAt}, took ${(r.durationS / 60).toFixed(1)} minutes ` +
    `(${r.plan.reps} run(s) per point at N = ${fmt.int(r.plan.loadNs[0] ?? N)}, medians with the range over runs in brackets); ` +
    `${m.cpuModel}, ${m.cpus} cores, ${m.memoryGiB} GiB; Node ${m.node}; ` +
    `${r.servers.find((s) => s.id === 'plugboard-cluster2')?.version ?? ''}; open-file limit ${fmt.int(m.openFileLimit)} per process.`
  );
}

/** The whole Cluster section, or a pointer to the command when there is no cluster run. */
export function clusterSection(r: Report | null): string {
  if (!r)
    return `## Cluster

_No cluster run yet: \`npm run bench -- --cluster\` measures it (about 16 minutes) and writes
this section from bench/results/cluster-summary.json._
`;
  const s = sides(r);
  const scale = s.workers?.scale?.[0];
  return `## Cluster

One chat over several Plugboard processes on one Redis bus (\`--bus redis://…\`, see
docs/cluster.md), measured by \`npm run bench -- --cluster\` on this machine; it keeps its
own summary (bench/results/cluster-summary.json), so this section can be newer or older
than the rest of the page.

${machineLine(r)}

### One room over two nodes

The same room of N = ${fmt.int(r.plan.loadNs[0] ?? N)} line-protocol clients, once on one node (Plugboard (line),
the target above) and once spread over two nodes on one throwaway \`redis-server\`
(no persistence): client i connects to node i mod 2, so each node holds half the room
and every message crosses Redis (one \`EVALSHA\` of the room's ordering script, which
\`PUBLISH\`es it to both nodes). The two nodes and Redis share core 0, the single node's
core, so the cluster gets no more CPU than the single node; *CPU µs/delivery (nodes)* is
both nodes' utime + stime over the deliveries, Redis apart (its own \`used_cpu_user\` +
\`used_cpu_sys\` from \`INFO\`, per room message and per delivery). *node split* is each
node's share of the nodes' CPU. The two sides' runs alternate (A B, B A, A B).

${comparisonTable(r, s)}

### Redis commands per room message

From \`INFO commandstats\` at both edges of each measurement window (the probe's own \`INFO\`
left out), divided by the room messages delivered in the window (its deliveries / (N − 1)). Commands inside the script
count too (\`INFO commandstats\` counts them). *net of idle background* takes out what
Redis executes while nobody talks (node leases, renewed every third of \`--node-lease\`),
measured in the same run before the load. Room sizes other than N = ${fmt.int(r.plan.loadNs[0] ?? N)} ran once.

${commandsTable(r, s.cluster)}

${redisClusterPart(r, s)}

### Many connections on one host: \`--workers\`

${
  scale
    ? `\`plugboard serve --workers ${scale.workers} --bus redis://…\` (line protocol only, \`--store memory\`) on
a throwaway \`redis-server\`; ${scale.generators} generator processes, each connecting its share from
its own source address (127.0.0.11, .12, …: every source address has its own
ephemeral ports), ${scale.concurrency} registrations in flight per generator. The open-file limit is
${fmt.int(scale.openFileLimit)} per process, so neither one server process nor one generator could hold
them all. Servers, Redis and generators all share both cores here (no pinning): the time
to connect is the whole machine's. Everyone lands in #lobby on registering, so #lobby is
a room of all of them. Once they are registered and the server's memory has settled
(RSS within 0.5 % for ${(r.plan.rssSteadyWindowMs / 1000).toFixed(0)} s), a client of the first generator and one of the
last each say a line in #lobby, and every other client must receive it (n − 1
deliveries each, from every worker, through Redis). *RSS / connection* is the RSS of the
primary and all workers together divided by the connections; *added / connection*
leaves out what the processes held before the first connection (${fmt.int(scale.rssStartKb / 1024)} MiB).`
    : ''
}

${scaleTable(s.workers?.scale)}
`;
}
