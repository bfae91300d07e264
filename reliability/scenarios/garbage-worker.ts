/**
 * Runs attacks from the catalogue in a worker thread, so building and sending megabytes
 * of garbage never stalls the main thread, where the bystanders' delivery times and the
 * /healthz probes are measured. The main thread sends {job, attack, id}; the worker
 * answers {job, outcome | error, ms} and runs as many jobs at once as it is given.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Rng } from '../lib/rng.js';
import { attacks, type Outcome, type Target } from './garbage-attacks.js';

export interface WorkerData {
  ports: Record<string, { port: number }>;
  adminPath: string;
  seed: number;
}
export interface Job {
  job: number;
  attack: number;
  id: number;
}
export interface Done {
  job: number;
  outcome?: Outcome;
  error?: string;
  ms: number;
}

const data = workerData as WorkerData;
const target: Target = {
  port: (name) => {
    const p = data.ports[name];
    if (!p) throw new Error(`no ${name} listener`);
    return p.port;
  },
  adminPath: data.adminPath,
};
const rng = new Rng(data.seed);

parentPort?.on('message', (job: Job) => {
  const attack = attacks[job.attack];
  const t0 = Date.now();
  if (!attack) {
    parentPort?.postMessage({ job: job.job, error: 'no such attack', ms: 0 } satisfies Done);
    return;
  }
  attack.run(target, rng, job.id).then(
    (outcome) =>
      parentPort?.postMessage({ job: job.job, outcome, ms: Date.now() - t0 } satisfies Done),
    (err: unknown) =>
      parentPort?.postMessage({
        job: job.job,
        error: String(err),
        ms: Date.now() - t0,
      } satisfies Done),
  );
});
