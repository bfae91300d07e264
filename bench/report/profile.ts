/**
 * Reads V8 .cpuprofile files and lists where the time went: self time per function and
 * per file, as a share of the non-idle samples. "(program)" is native code outside
 * JavaScript (libuv, syscalls such as writev), "(garbage collector)" is GC.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface HotSpot {
  fn: string;
  where: string;
  selfPct: number;
}

export interface ProfileSummary {
  files: string[];
  totalMs: number;
  top: HotSpot[];
  /** Self time per source file (or pseudo-node such as "(garbage collector)"). */
  byFile: Array<{ file: string; selfPct: number }>;
}

interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }>;
  startTime: number;
  endTime: number;
  samples?: number[];
}

function profilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return profilesUnder(p);
    return name.endsWith('.cpuprofile') ? [p] : [];
  });
}

export function summarizeProfiles(dir: string, topN = 25): ProfileSummary | null {
  const files = profilesUnder(dir);
  if (files.length === 0) return null;
  const self = new Map<string, { fn: string; where: string; hits: number }>();
  const perFile = new Map<string, number>();
  let hits = 0;
  let totalMs = 0;
  for (const file of files) {
    const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    totalMs += (prof.endTime - prof.startTime) / 1000;
    for (const node of prof.nodes) {
      const h = node.hitCount ?? 0;
      if (h === 0) continue;
      const cf = node.callFrame;
      // Percentages are of the time the thread was doing something.
      if (cf.functionName === '(idle)') continue;
      const url = cf.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
      const key = `${cf.functionName}|${url}|${cf.lineNumber}`;
      const entry = self.get(key) ?? {
        fn: cf.functionName || '(anonymous)',
        where: url ? `${url}:${cf.lineNumber + 1}` : '',
        hits: 0,
      };
      entry.hits += h;
      self.set(key, entry);
      const file = url || cf.functionName || '(native)';
      perFile.set(file, (perFile.get(file) ?? 0) + h);
      hits += h;
    }
  }
  const top = [...self.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, topN)
    .map((e) => ({ fn: e.fn, where: e.where, selfPct: (e.hits / hits) * 100 }));
  const byFile = [...perFile.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([file, h]) => ({ file, selfPct: (h / hits) * 100 }));
  return { files, totalMs, top, byFile };
}
