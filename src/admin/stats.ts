/**
 * The admin `stats` command: one process's figures as plain data (so a primary can
 * gather them from its workers over IPC and add them up) and as the operator's lines.
 */
import type { Hub } from '../core/hub.js';
import { describeTransports, type TransportStats } from '../transports/stats.js';

export interface StatsSnapshot {
  uptimeS: number;
  connections: number;
  byProtocol: Record<string, number>;
  registered: number;
  peak: number;
  rooms: number;
  messagesIn: number;
  deliveries: number;
  encodings: number;
  sendQueueEvictions: number;
  floodDelayed: number;
  floodDropped: number;
  refused: number;
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number };
  /** The transports' lines (sockets, limits, lingering closes, descriptors), as they are. */
  transport: string[];
  /** The bus this process is a node of, and how it fares. */
  bus: { name: string; node: string; healthy: boolean; outages: number; lost: number };
}

export function statsSnapshot(hub: Hub, transport?: TransportStats): StatsSnapshot {
  const c = hub.counters;
  const mem = process.memoryUsage();
  return {
    uptimeS: Math.round((Date.now() - hub.startedAt) / 1000),
    connections: hub.connectionCount,
    byProtocol: Object.fromEntries(c.byProtocol),
    registered: hub.online,
    peak: hub.peakOnline,
    rooms: hub.rooms.count,
    messagesIn: c.messagesIn,
    deliveries: c.deliveries,
    encodings: c.encodings,
    sendQueueEvictions: c.sendQueueEvictions,
    floodDelayed: c.floodDelayed,
    floodDropped: c.floodDropped,
    refused: c.connectionsRefused,
    memory: {
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      heapTotal: mem.heapTotal,
      external: mem.external,
    },
    transport: transport ? describeTransports(transport) : [],
    bus: {
      name: hub.bus.name,
      node: hub.nodeId,
      healthy: hub.bus.healthy(),
      outages: c.busOutages,
      lost: c.busGaps,
    },
  };
}

const mib = (bytes: number) => (bytes / 1048576).toFixed(1);

function protocols(byProtocol: Record<string, number>): string {
  return (
    Object.entries(byProtocol)
      .map(([p, n]) => `${p}=${n}`)
      .join(' ') || 'none'
  );
}

export function statsLines(s: StatsSnapshot): string[] {
  const rate = s.uptimeS > 0 ? (s.messagesIn / s.uptimeS).toFixed(2) : '0';
  return [
    `uptime ${s.uptimeS}s; connections ${s.connections} (${protocols(s.byProtocol)}); registered ${s.registered}; peak ${s.peak}`,
    `rooms ${s.rooms}; messages in ${s.messagesIn} (${rate}/s average); deliveries ${s.deliveries}; encodings ${s.encodings}`,
    `send-queue evictions ${s.sendQueueEvictions}; flood delayed ${s.floodDelayed}, dropped ${s.floodDropped}; refused ${s.refused}`,
    // RSS minus the V8 heap and external memory is what malloc holds (sockets' native
    // state, and free memory it has not returned to the system yet).
    `memory rss ${mib(s.memory.rss)} MiB, heap ${mib(s.memory.heapUsed)} of ${mib(s.memory.heapTotal)} MiB, ` +
      `external ${mib(s.memory.external)} MiB`,
    ...s.transport,
    `bus ${s.bus.name}, node ${s.bus.node}: ${s.bus.healthy ? 'healthy' : 'UNAVAILABLE'}; ` +
      `outages ${s.bus.outages}; events lost ${s.bus.lost}`,
  ];
}

export interface WorkerStats {
  /** The worker's slot, 1..N: stays the same across restarts. */
  slot: number;
  pid: number | null;
  nodeId: string | null;
  restarts: number;
  /** Null when the worker is not serving (restarting, or no answer). */
  stats: StatsSnapshot | null;
  /** Why there are no figures. */
  note?: string;
}

/**
 * A host's stats: the sums over its workers first, then each worker's own lines. Rooms
 * are not summed: with a shared bus every worker holds a replica of the same room.
 */
export function hostStatsLines(
  workers: WorkerStats[],
  primaryRss: number,
  /** What the primary itself runs (the UDP echo), after the sums. */
  primaryLines: string[] = [],
): string[] {
  const serving = workers.filter((w) => w.stats !== null);
  const sum = (f: (s: StatsSnapshot) => number): number =>
    serving.reduce((n, w) => n + f(w.stats as StatsSnapshot), 0);
  const byProtocol: Record<string, number> = {};
  for (const w of serving) {
    for (const [p, n] of Object.entries((w.stats as StatsSnapshot).byProtocol)) {
      byProtocol[p] = (byProtocol[p] ?? 0) + n;
    }
  }
  const lines = [
    `host: ${workers.length} workers, ${serving.length} serving; connections ${sum((s) => s.connections)} ` +
      `(${protocols(byProtocol)}); registered ${sum((s) => s.registered)}`,
    `host: messages in ${sum((s) => s.messagesIn)}; deliveries ${sum((s) => s.deliveries)}; ` +
      `send-queue evictions ${sum((s) => s.sendQueueEvictions)}; refused ${sum((s) => s.refused)}; ` +
      `memory rss ${mib(sum((s) => s.memory.rss) + primaryRss)} MiB with the primary's ${mib(primaryRss)} MiB`,
    ...primaryLines.map((l) => `host: ${l}`),
  ];
  for (const w of workers) {
    const who = `worker ${w.slot} (pid ${w.pid ?? '-'}, node ${w.nodeId ?? '-'}, restarts ${w.restarts})`;
    if (w.stats === null) {
      lines.push(`${who}: ${w.note ?? 'not serving'}`);
      continue;
    }
    lines.push(`${who}: connections ${w.stats.connections}`);
    for (const line of statsLines(w.stats)) lines.push(`  ${line}`);
  }
  return lines;
}
