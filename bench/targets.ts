/**
 * The servers a benchmark compares, each checked for availability before the run:
 * Plugboard over the line protocol and over IRC, ngIRCd over IRC, and the Python
 * select() baseline over the line protocol.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { clusterTarget, redisClusterTarget, workersTarget } from './servers/cluster.js';
import { ngircdTarget, ngircdVersion, NGIRCD } from './servers/ngircd.js';
import { plugboardAvailable, plugboardTarget } from './servers/plugboard.js';
import { pythonTarget, pythonVersion } from './servers/python.js';
import { redisVersion } from './servers/redis.js';
import type { ServerTarget } from './servers/spawn.js';
import { repoRoot } from './lib/paths.js';
import { readFileSync } from 'node:fs';

export interface Candidate {
  target: ServerTarget;
  available: boolean;
  why: string;
}

/** The soft open-file limit this process inherited: servers and generator share it. */
export function openFileLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()) || 1024;
  } catch {
    return 1024;
  }
}

/** Installs ngIRCd from Debian when it is missing and we may (root, apt-get present). */
function ensureNgircd(log: (s: string) => void): void {
  if (existsSync(NGIRCD)) return;
  if (process.getuid?.() !== 0) return;
  log('ngircd missing: apt-get install -y ngircd');
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', 'ngircd'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (e) {
    log(`could not install ngircd: ${(e as Error).message}`);
  }
}

function plugboardVersion(): string {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  return `plugboard ${pkg.version} (node ${process.version})`;
}

export function candidates(log: (s: string) => void): ServerTarget[] {
  ensureNgircd(log);
  // Leave room for the descriptors every process has besides its clients.
  const max = openFileLimit() - 500;
  const pv = plugboardVersion();
  const pb = (t: ServerTarget): ServerTarget => ({ ...t, maxClients: max });
  const list: ServerTarget[] = [pb(plugboardTarget('line', pv)), pb(plugboardTarget('irc', pv))];
  // Flood control on, with limits no benchmark client reaches: what the check itself costs.
  const flood = plugboardTarget('line', pv, [
    '--flood-rate',
    '1000000',
    '--flood-burst',
    '1000000',
  ]);
  list.push({
    ...pb(flood),
    id: 'plugboard-line-flood',
    label: 'Plugboard (line, flood control on)',
  });
  list.push({ ...ngircdTarget(ngircdVersion() ?? 'not installed'), maxClients: max });
  list.push(pythonTarget(pythonVersion() ?? 'python3 missing'));
  // One room spread over two nodes on one Redis (or a Redis Cluster), compared with
  // plugboard-line; and many connections over --workers. All opt-in (--servers, --cluster).
  const rv = `${pv}; ${redisVersion() ?? 'redis-server missing'}`;
  list.push({ ...clusterTarget(2, rv), maxClients: max });
  // The same two nodes with the bus on a 3-master Redis Cluster (redis+cluster://).
  list.push({ ...redisClusterTarget(2, rv), maxClients: max });
  list.push(workersTarget(rv));
  return list;
}

/** The commit a checkout is at (short), or "unknown". */
function commitOf(dir: string): string {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * `--baseline DIR`: the line and IRC targets again, served by another checkout's build
 * (DIR/dist/src/cli.js), so a change can be measured against the code before it with the
 * same generator, the same flags and the runs interleaved (ids plugboard-line-base,
 * plugboard-irc-base).
 */
export function baselineTargets(dir: string): ServerTarget[] {
  const cli = join(resolve(dir), 'dist', 'src', 'cli.js');
  const commit = commitOf(dir);
  const max = openFileLimit() - 500;
  return (['line', 'irc'] as const).map((protocol) => {
    const t = plugboardTarget(protocol, `plugboard at ${commit} (${dir})`, [], cli);
    return {
      ...t,
      id: `${t.id}-base`,
      label: `${t.label} at ${commit}`,
      maxClients: max,
    };
  });
}

/** Starts each server once: one that cannot start (yet) is reported, not benchmarked. */
export async function probe(
  targets: ServerTarget[],
  logDir: string,
  log: (s: string) => void,
): Promise<Candidate[]> {
  mkdirSync(logDir, { recursive: true });
  const out: Candidate[] = [];
  for (const target of targets) {
    if (target.requires && !plugboardAvailable(target.requires)) {
      out.push({ target, available: false, why: `${target.requires} not built` });
      continue;
    }
    try {
      const s = await target.start({ core: 0, logFile: join(logDir, `probe-${target.id}.log`) });
      await s.stop();
      out.push({ target, available: true, why: '' });
    } catch (e) {
      out.push({ target, available: false, why: (e as Error).message });
    }
    const last = out[out.length - 1] as Candidate;
    log(`  ${target.label}: ${last.available ? 'available' : `unavailable (${last.why})`}`);
  }
  return out;
}
