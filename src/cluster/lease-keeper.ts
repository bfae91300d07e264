/**
 * Keeps this node's lease alive from a worker thread (lease-thread.ts) while the main
 * event loop beats its heartbeat: the lease then says "this process lives and reaches
 * Redis", not "this process's main loop ran in the last 10 s", which a loaded host cannot
 * promise (in the 100,000-connection run six workers on two shared cores stalled for up
 * to 14 s, past the 10 s lease). The main loop still renews the lease itself as before;
 * the thread only keeps an existing lease from lapsing (`SET … XX`), so a stopped or
 * cleaned-up node is never brought back by it.
 *
 * The thread runs the built JavaScript next to this file; under a TypeScript runner (the
 * tests) the built copy in dist/ is used when there is one. Without it the node renews
 * from its main loop alone, as before, and says so.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../core/ports.js';
import type { LeaseThreadData } from './lease-thread.js';

export interface LeaseKeeperOptions {
  url: string;
  key: string;
  leaseMs: number;
  renewMs: number;
  /** A main loop silent this long is hung: the thread stops covering for it. */
  hungMs: number;
}

function threadFile(): string | null {
  const here = fileURLToPath(import.meta.url);
  const built = here.endsWith('.ts')
    ? here.replace(/\/src\/cluster\/lease-keeper\.ts$/, '/dist/src/cluster/lease-thread.js')
    : here.replace(/lease-keeper\.js$/, 'lease-thread.js');
  return existsSync(built) ? built : null;
}

export class LeaseKeeper {
  private readonly beat: Float64Array;
  private readonly heart: NodeJS.Timeout;

  private constructor(
    private readonly worker: Worker,
    heartbeat: SharedArrayBuffer,
  ) {
    this.beat = new Float64Array(heartbeat);
    this.beat[0] = Date.now();
    this.heart = setInterval(() => (this.beat[0] = Date.now()), 1000);
    this.heart.unref();
  }

  /** Null when the thread cannot run here (no built copy): the main loop renews alone. */
  static async start(o: LeaseKeeperOptions, log: Logger): Promise<LeaseKeeper | null> {
    const file = threadFile();
    if (file === null) {
      log.warn({}, 'no built lease thread: the lease is renewed from the main loop only');
      return null;
    }
    const heartbeat = new SharedArrayBuffer(8);
    const data: LeaseThreadData = { ...o, heartbeat };
    const worker = new Worker(pathToFileURL(file), {
      workerData: data,
      // Its work is one command every few seconds: a small heap is plenty.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
    });
    worker.unref();
    const keeper = new LeaseKeeper(worker, heartbeat);
    worker.on('error', (err) =>
      log.warn({ err }, 'lease thread failed: renewing from the main loop only'),
    );
    // Waited for at most a lease: a thread starting slowly (a new V8 isolate loading the
    // Redis client, on a loaded host) renews once it is up, and the main loop renews
    // meanwhile; startup must not hang on it.
    let slow: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', () => resolve());
      slow = setTimeout(() => {
        log.warn(
          { waitedMs: o.leaseMs },
          'lease thread slow to start: the main loop renews meanwhile',
        );
        resolve();
      }, o.leaseMs);
    }).catch((err: unknown) => log.warn({ err }, 'lease thread did not start'));
    clearTimeout(slow);
    return keeper;
  }

  /** Stops the thread before the lease is deleted (it must not set it again after). */
  async stop(): Promise<void> {
    clearInterval(this.heart);
    await new Promise<void>((resolve) => {
      const done = setTimeout(resolve, 2000);
      this.worker.once('message', () => {
        clearTimeout(done);
        resolve();
      });
      this.worker.once('exit', () => {
        clearTimeout(done);
        resolve();
      });
      this.worker.postMessage('stop');
    });
    await this.worker.terminate();
  }
}
