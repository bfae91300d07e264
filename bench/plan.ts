/**
 * What a benchmark run measures: the full plan that docs/benchmarks.md quotes, and a
 * quick smoke plan (`--quick`) that exercises every path in well under two minutes.
 */

export type CapacityN = number | 'max';

export interface Plan {
  name: 'full' | 'quick' | 'cluster' | 'quick-cluster';
  /** Each point is run this many times, each on a fresh server; medians are reported. */
  reps: number;
  /** Client counts for load runs: register, idle RSS, join, rate ladder, saturation. */
  loadNs: number[];
  /** Offered deliveries per second. */
  rates: number[];
  warmupMs: number;
  measureMs: number;
  drainTimeoutMs: number;
  saturation: { window: number; warmupMs: number; measureMs: number };
  /** Register-only runs: every N at every concurrency, timed. */
  regNs: number[];
  regConcurrencies: number[];
  /** A register-only run that takes longer than this is reported as not finishing. */
  regTimeoutMs: number;
  /** Client counts held idle for RSS and a pair check; "max" is the open-file limit's worth. */
  capacityNs: CapacityN[];
  /**
   * Repetitions of the "max" capacity run: filling ~19,500 clients takes ngIRCd over a
   * minute (its per-registration work grows with the client count), so it runs fewer times
   * to keep the full plan near 25 minutes.
   */
  capacityMaxReps: number;
  /**
   * Load and capacity runs fill the server at this concurrency: there the figures are
   * memory, latency and throughput, not arrival speed, and ngIRCd's listen backlog of 10
   * turns a bigger burst into SYN retransmission waits of seconds (and resets).
   */
  fillConcurrency: number;
  joinConcurrency: number;
  senders: number;
  sampleReceivers: number;
  settleMs: number;
  /**
   * Quiet time before idle RSS is read, in the runs that report memory (capacity runs and
   * the smallest load size). "Idle" means idle: a garbage-collected server gives back what
   * a burst of registrations left behind some seconds after it (V8's memory reducer runs
   * once allocation stops), so reading RSS 1.5 s after the burst would count garbage.
   * 12 s was not always enough: on a quiet machine two of three runs of the reshaped core
   * held steady for 10 s before the reducer had run (4.1 KB per connection against 2.6 KB
   * on the run where it had), so the full plan waits 30 s.
   */
  idleSettleMs: number;
  /** After the quiet time, idle RSS waits until it has held steady this long (settledRss). */
  rssSteadyWindowMs: number;
  registerTimeoutMs: number;
  joinTimeoutMs: number;
  /** Read idle memory in the smallest load size's runs too (the full plan's N = 1,000). */
  loadMemory?: boolean;
  /**
   * Cluster targets only, first repetition only: more load sizes, one rate and saturation
   * each, to show Redis's commands per room message do not grow with the room.
   */
  roomSizes?: number[];
  /** The scale run (bench/scale.ts): 0 workers or generators: enough for the open-file limit. */
  scale?: { n: number; concurrency: number; workers: number; generators: number };
}

export const fullPlan: Plan = {
  name: 'full',
  reps: 3,
  loadNs: [1000, 5000],
  rates: [10_000, 50_000, 200_000],
  warmupMs: 1000,
  measureMs: 4000,
  drainTimeoutMs: 20_000,
  saturation: { window: 32, warmupMs: 1000, measureMs: 4000 },
  regNs: [1000, 5000],
  regConcurrencies: [8, 200],
  regTimeoutMs: 30_000,
  capacityNs: [10_000, 'max'],
  capacityMaxReps: 1,
  fillConcurrency: 8,
  joinConcurrency: 200,
  senders: 10,
  sampleReceivers: 200,
  settleMs: 1500,
  idleSettleMs: 30_000,
  rssSteadyWindowMs: 10_000,
  registerTimeoutMs: 120_000,
  joinTimeoutMs: 120_000,
};

export const quickPlan: Plan = {
  ...fullPlan,
  name: 'quick',
  reps: 1,
  loadNs: [500],
  rates: [10_000, 50_000],
  warmupMs: 300,
  measureMs: 1500,
  drainTimeoutMs: 5000,
  saturation: { window: 32, warmupMs: 300, measureMs: 1500 },
  regNs: [500],
  regTimeoutMs: 15_000,
  capacityNs: [2000],
  settleMs: 500,
  idleSettleMs: 2000,
  rssSteadyWindowMs: 2000,
  registerTimeoutMs: 20_000,
  joinTimeoutMs: 20_000,
};

/**
 * `--cluster`: one room on one node against the same room over two nodes on one Redis and
 * over two nodes on a 3-master Redis Cluster (N = 1,000 at 50k/s and saturation,
 * interleaved), Redis's commands per room message at more room sizes, and 100,000
 * registered connections over `--workers` (bench/scale.ts). About 16 minutes (the scale
 * run is bounded at 3 ms per connection; the Redis Cluster's five load runs add about
 * 2.5); writes bench/results/cluster-summary.json and the Cluster section.
 */
export const clusterPlan: Plan = {
  ...fullPlan,
  name: 'cluster',
  loadNs: [1000],
  rates: [50_000],
  regNs: [],
  capacityNs: [],
  loadMemory: false,
  roomSizes: [200, 5000],
  scale: { n: 100_000, concurrency: 16, workers: 0, generators: 0 },
};

export const quickClusterPlan: Plan = {
  ...quickPlan,
  name: 'quick-cluster',
  rates: [50_000],
  regNs: [],
  capacityNs: [],
  loadMemory: false,
  roomSizes: [100, 2000],
  scale: { n: 4000, concurrency: 16, workers: 2, generators: 2 },
};
