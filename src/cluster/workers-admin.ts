/**
 * Admin commands on a host of several workers: the primary owns the admin socket and the
 * console, and sends each command where its scope (admin/commands.ts) says. A 'chat'
 * command goes to one serving worker (the bus and the store carry its effect to the whole
 * chat); a 'process' command goes to every serving worker, and identical answers (in any
 * order) are shown once; `stats` adds the workers' figures up; 'host' commands (shutdown) run here.
 */
import { adminScope, parseAdminLine, runHostOnlyCommand } from '../admin/commands.js';
import { hostStatsLines, type WorkerStats } from '../admin/stats.js';
import type { WorkerHost, WorkerSlot } from './workers-primary.js';

function describe(s: WorkerSlot): string {
  return s.worker ? 'starting' : 'restarting';
}

async function stats(host: WorkerHost): Promise<string[]> {
  const rows = await Promise.all(
    host.slots.map(async (s): Promise<WorkerStats> => {
      const base = {
        slot: s.slot,
        pid: s.worker?.process.pid ?? null,
        nodeId: s.nodeId,
        restarts: s.restarts,
      };
      if (!s.serving) return { ...base, stats: null, note: describe(s) };
      const reply = await host.request(s, { pb: 'stats', id: host.nextId() });
      return reply?.pb === 'stats'
        ? { ...base, stats: reply.stats }
        : { ...base, stats: null, note: 'no answer' };
    }),
  );
  const udp = host.udp;
  // The echo runs in the primary (workers-primary.ts); the same words as a process's stats.
  const primaryLines = udp
    ? [
        `udp echoed ${udp.echoed}, dropped ${udp.dropped}; sources ${udp.sources}, ` +
          `overflowed ${udp.overflowed}, evicted ${udp.evicted}`,
      ]
    : [];
  return hostStatsLines(rows, process.memoryUsage().rss, primaryLines);
}

async function ask(host: WorkerHost, s: WorkerSlot, line: string): Promise<string[] | null> {
  const reply = await host.request(s, { pb: 'admin', id: host.nextId(), line });
  return reply?.pb === 'reply' ? reply.lines : null;
}

export async function runHostCommand(
  host: WorkerHost,
  line: string,
  shutdown: (reason: string) => void,
): Promise<string[]> {
  const parsed = parseAdminLine(line);
  if (!parsed) return [];
  const scope = adminScope(line);
  if (scope === null) return [`unknown command ${parsed.name}; try help`];
  if (scope === 'host') return runHostOnlyCommand({ shutdown }, line);
  if (parsed.name === 'stats') return stats(host);

  const serving = host.slots.filter((s) => s.serving);
  if (serving.length === 0) return ['no worker is serving right now; try again shortly'];
  if (scope === 'chat') {
    const first = serving[0] as WorkerSlot;
    return (await ask(host, first, line)) ?? [`worker ${first.slot} did not answer`];
  }

  const answers = await Promise.all(serving.map((s) => ask(host, s, line)));
  const notServing = host.slots
    .filter((s) => !s.serving)
    .map((s) => `(worker ${s.slot} ${describe(s)}: not asked)`);
  // The same lines in another order are the same answer (who lists people as each
  // worker's presence happens to return them).
  const texts = answers.map((a) => (a === null ? null : [...a].sort().join('\n')));
  if (texts.every((t) => t !== null && t === texts[0])) {
    return [...(answers[0] as string[]), ...notServing];
  }
  const lines: string[] = [];
  for (const [i, s] of serving.entries()) {
    const a = answers[i] ?? null;
    lines.push(`worker ${s.slot}:${a === null ? ' did not answer' : ''}`);
    for (const l of a ?? []) lines.push(`  ${l}`);
  }
  return [...lines, ...notServing];
}
