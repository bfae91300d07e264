/**
 * 5a. A full disk under a real server: scripts/chaos/full-disk.mjs (a tmpfs, so root),
 * run as a child and its verdict and figures taken over. The default mode runs it a
 * second time on a larger disk held full longer, and a third time with
 * --ack-after-commit, where an acknowledgement waits for the commit.
 */
import { spawn } from 'node:child_process';
import { fullDiskScript } from '../lib/paths.js';
import type { Context, Scenario } from '../lib/scenario.js';

interface ScriptRun {
  args: string[];
  exit: number | null;
  verdict: 'PASS' | 'FAIL' | 'none';
  figures: Record<string, unknown> | null;
  tail: string;
}

function runScript(args: string[], timeoutMs: number): Promise<ScriptRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fullDiskScript, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // The script unmounts its tmpfs on SIGTERM; SIGKILL only if that hangs.
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const lines = out.split('\n');
      const start = lines.indexOf('{');
      const end = lines.indexOf('}', start);
      let figures: Record<string, unknown> | null = null;
      if (start >= 0 && end > start) {
        try {
          figures = JSON.parse(lines.slice(start, end + 1).join('\n')) as Record<string, unknown>;
        } catch {
          figures = null;
        }
      }
      const verdict = out.includes('full-disk: PASS')
        ? 'PASS'
        : out.includes('full-disk: FAIL')
          ? 'FAIL'
          : 'none';
      resolve({ args, exit: code, verdict, figures, tail: lines.slice(-25).join('\n') });
    });
  });
}

export const fullDisk: Scenario = {
  id: 'full-disk',
  title: 'a real full disk (tmpfs) under a running server: nothing acknowledged lost',
  suite: 'chaos',
  boundMs: (quick) => (quick ? 200_000 : 600_000),
  async run(ctx: Context) {
    if (process.getuid?.() !== 0) ctx.skip('needs root (it mounts a tmpfs)');
    const plans: string[][] = ctx.quick
      ? [['--size-mib', '8', '--headroom-kib', '1536', '--hold-s', '5']]
      : [
          ['--size-mib', '8', '--headroom-kib', '1536', '--hold-s', '5'],
          ['--size-mib', '32', '--headroom-kib', '4096', '--hold-s', '20'],
          ['--size-mib', '8', '--headroom-kib', '1536', '--hold-s', '5', '--ack-after-commit'],
        ];
    const runs: ScriptRun[] = [];
    for (const args of plans) {
      if (ctx.remainingMs() < 160_000) break;
      ctx.log(`full-disk.mjs ${args.join(' ')}`);
      const r = await runScript(args, 160_000);
      runs.push(r);
      const f = r.figures ?? {};
      const name = args.includes('--ack-after-commit')
        ? 'with --ack-after-commit'
        : `${args[1]} MiB held ${args[5]} s`;
      ctx.figure(`run ${name}`, f);
      ctx.check(
        `full disk, ${name}: script verdict PASS`,
        r.verdict === 'PASS',
        r.verdict === 'PASS'
          ? `acknowledged ${String(f.acknowledged)}, refused ${String(f.refused)}, lost ${String(f.lost)}, back ${String(f.recoveryAfterFreeMs)} ms after freeing`
          : `exit ${r.exit}, verdict ${r.verdict}; figures ${JSON.stringify(f).slice(0, 600)}; output: ${r.tail.slice(-600)}`,
      );
      ctx.check(
        `full disk, ${name}: nothing acknowledged lost`,
        f.lost === 0 && f.lostOverProtocol === 0,
        `lost ${String(f.lost)} on disk, ${String(f.lostOverProtocol)} over the protocol`,
      );
    }
    ctx.figure('runs', runs.length);
  },
};
