/**
 * CPU starvation, read from the kernel. On a shared machine (and the suite runs niced), a
 * wall-clock latency alone cannot tell a server that stalled from a server that was
 * runnable but given no CPU. The scheduler keeps, per thread, the time spent on a CPU and
 * the time spent runnable but waiting in a run queue (/proc/PID/task/TID/schedstat, in
 * nanoseconds; Documentation/scheduler/sched-stats.rst). A watch samples both for the
 * server's main thread and this process's main thread (which runs the clients that
 * measure), so a latency can be judged net of the time either waited for a CPU.
 */
import { readFileSync } from 'node:fs';

export interface SchedTimes {
  /** Time on a CPU, ms. */
  runMs: number;
  /** Time runnable but waiting for a CPU, ms. */
  waitMs: number;
}

/** One thread's schedstat (the main thread: tid = pid); null when unreadable. */
export function schedTimes(pid: number, tid = pid): SchedTimes | null {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (run === undefined || wait === undefined || !Number.isFinite(run + wait)) return null;
    return { runMs: run / 1e6, waitMs: wait / 1e6 };
  } catch {
    return null;
  }
}

interface Sample {
  at: number;
  /** Per watched thread: cumulative run and wait, ms. */
  times: SchedTimes[];
}

export class StarvationWatch {
  private samples: Sample[] = [];
  private timer: NodeJS.Timeout;

  /** Watches the main threads of `pids` (the server and this process, usually). */
  constructor(
    private readonly pids: number[],
    everyMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): void {
    const times = this.pids.map((p) => schedTimes(p) ?? { runMs: NaN, waitMs: NaN });
    this.samples.push({ at: Date.now(), times });
  }

  /** Cumulative value of one thread's field at `at`, linearly between the samples around it. */
  private valueAt(at: number, thread: number, field: keyof SchedTimes): number {
    const s = this.samples;
    if (s.length === 0) return 0;
    const first = s[0] as Sample;
    const last = s[s.length - 1] as Sample;
    if (at <= first.at) return first.times[thread]?.[field] ?? 0;
    if (at >= last.at) return last.times[thread]?.[field] ?? 0;
    let lo = 0;
    let hi = s.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((s[mid] as Sample).at <= at) lo = mid;
      else hi = mid;
    }
    const a = s[lo] as Sample;
    const b = s[hi] as Sample;
    const va = a.times[thread]?.[field] ?? 0;
    const vb = b.times[thread]?.[field] ?? 0;
    return b.at === a.at ? vb : va + ((vb - va) * (at - a.at)) / (b.at - a.at);
  }

  /**
   * How long, between `from` and `to` (ms since the epoch), the most-starved watched
   * thread (or of `thread`, by index in `pids`) waited for a CPU. The maximum, not the
   * sum: both waiting at once lose that time once.
   */
  waitMs(from: number, to: number, thread?: number): number {
    this.sample();
    let max = 0;
    for (let t = 0; t < this.pids.length; t++) {
      if (thread !== undefined && t !== thread) continue;
      const w = this.valueAt(to, t, 'waitMs') - this.valueAt(from, t, 'waitMs');
      if (w > max) max = w;
    }
    return Math.round(max);
  }

  /** CPU time one watched thread (by index in `pids`) used between `from` and `to`. */
  runMs(thread: number, from: number, to: number): number {
    this.sample();
    return Math.round(this.valueAt(to, thread, 'runMs') - this.valueAt(from, thread, 'runMs'));
  }

  /** A latency net of the CPU wait in its window: what the server itself is answerable for. */
  netMs(start: number, latencyMs: number): number {
    return Math.max(0, Math.round(latencyMs - this.waitMs(start, start + latencyMs)));
  }

  /** Totals over the whole watch, per thread: [run ms, wait ms, wall ms]. */
  totals(): { runMs: number; waitMs: number; wallMs: number }[] {
    this.sample();
    const first = this.samples[0] as Sample;
    const last = this.samples[this.samples.length - 1] as Sample;
    return this.pids.map((_, t) => ({
      runMs: Math.round((last.times[t]?.runMs ?? 0) - (first.times[t]?.runMs ?? 0)),
      waitMs: Math.round((last.times[t]?.waitMs ?? 0) - (first.times[t]?.waitMs ?? 0)),
      wallMs: last.at - first.at,
    }));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
