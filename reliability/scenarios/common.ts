/** Probes several scenarios share. */
import type { StarvationWatch } from '../lib/sched.js';
import type { Server } from '../lib/server.js';

export interface HealthReport {
  probes: number;
  failures: number;
  maxMs: number;
  /** When each failure happened, ms since the watch started (first 20). */
  failedAt: number[];
  /**
   * Net of the time the server or the prober waited for a CPU (with a StarvationWatch):
   * the slowest probe, and the failures left once a timed-out probe whose window was
   * mostly spent waiting for a CPU is excused. An error other than a timeout, or a
   * non-200 answer, is never excused.
   */
  netMaxMs: number;
  netFailures: number;
}

/** Polls /healthz on a fresh connection every `everyMs` until stop(). */
export function watchHealth(
  server: Server,
  everyMs: number,
  timeoutMs = 2000,
  starvation?: StarvationWatch,
) {
  const started = Date.now();
  const r: HealthReport = {
    probes: 0,
    failures: 0,
    maxMs: 0,
    failedAt: [],
    netMaxMs: 0,
    netFailures: 0,
  };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t0 = Date.now();
      let ok = false;
      let timedOut = false;
      try {
        ok = (await server.get('/healthz', timeoutMs)).status === 200;
      } catch (err) {
        timedOut = String(err).includes('no answer in');
      }
      const ms = Date.now() - t0;
      const net = starvation ? starvation.netMs(t0, ms) : ms;
      r.probes++;
      r.maxMs = Math.max(r.maxMs, ms);
      r.netMaxMs = Math.max(r.netMaxMs, net);
      if (!ok) {
        r.failures++;
        if (r.failedAt.length < 20) r.failedAt.push(t0 - started);
        if (!timedOut || net >= timeoutMs / 2) r.netFailures++;
      }
      await new Promise((res) => setTimeout(res, Math.max(0, everyMs - ms)));
    }
  })();
  return {
    report: r,
    async stop(): Promise<HealthReport> {
      stopped = true;
      await loop;
      return r;
    },
  };
}

/**
 * Log lines that say a handler failed or an error reached the process's last resort:
 * each is a bug one client's input triggered (src/cli.ts, src/web-listener.ts).
 */
export function handlerFailures(server: Server): string[] {
  return server
    .logEntries()
    .filter((e) => e.msg === 'handler failed' || e.msg === 'uncaught error; still serving')
    .map((e) => {
      const err = e.err as { message?: string; stack?: string } | undefined;
      return `${String(e.msg)} (${String(e.where ?? e.kind ?? '')}): ${(err?.message ?? '').slice(0, 160)} ${
        err?.stack?.split('\n')[1]?.trim() ?? ''
      }`;
    });
}
