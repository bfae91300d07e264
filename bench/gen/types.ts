/**
 * What the orchestrator asks one generator process to do, and what it reports back.
 * Plain data: both travel over the child-process IPC channel as JSON.
 */

import type { ScaleResult } from '../scale.js';

export type ProtocolName = 'line' | 'irc';

export interface RunSpec {
  /** Human label for logs, e.g. "ngircd N=1000 rep 2". */
  label: string;
  protocol: ProtocolName;
  /** false: the server has one room and registration puts everyone in it (the Python baseline). */
  rooms: boolean;
  /** Where clients connect: client i to endpoints[i mod length] (one, or a cluster's nodes). */
  endpoints: Endpoint[];
  /**
   * The server's process ids (a cluster's nodes): the generator reads /proc/PID/stat
   * itself at window edges and adds them up.
   */
  serverPids: number[];
  /** CPU core the server is pinned to; its /proc/stat line includes softirq work. */
  serverCore: number;
  /** A cluster's Redis: its CPU time and commands are read at the window edges too. */
  redis: BusRedis | null;
  n: number;
  regConcurrency: number;
  /** Quiet time after registration before idle RSS is read (lets GC and queues settle). */
  settleMs: number;
  /** Read the idle RSS after the quiet time (only runs whose memory figure is reported). */
  measureMemory: boolean;
  /** Idle RSS is read once it has moved under 0.5 % for this long. */
  rssSteadyWindowMs: number;
  /** Join one room (where the server has rooms) and run the rate ladder and saturation. */
  load: boolean;
  joinConcurrency: number;
  senders: number;
  /** How many receivers parse every line for latency and ordering; the rest only count. */
  sampleReceivers: number;
  /** Offered deliveries per second, one measured point each. */
  rates: number[];
  warmupMs: number;
  measureMs: number;
  drainTimeoutMs: number;
  /** Closed-loop "as fast as possible": at most `window` messages in flight. */
  saturation: { window: number; warmupMs: number; measureMs: number } | null;
  /** Every client sends one private message to the next: proves all connections still chat. */
  pairCheck: boolean;
  registerTimeoutMs: number;
  joinTimeoutMs: number;
}

/**
 * The Redis a cluster's bus runs on: one redis-server (pid, port), or a Redis Cluster,
 * whose every master is read at the window edges and added up (pid and port are then the
 * first master's).
 */
export interface BusRedis {
  pid: number;
  port: number;
  core: number | string;
  masters?: Array<{ pid: number; port: number }>;
  /** A Redis Cluster: the benchmark room's key slot and the index of its master. */
  shard?: RoomShard;
}

export interface RoomShard {
  /** The room's hash-tagged channel, e.g. `pb:{r:#bench}`: every key of the room shares its slot. */
  key: string;
  slot: number;
  master: number;
}

export interface Endpoint {
  host: string;
  port: number;
}

/** What Redis did in a measurement window, per room message sent in it. */
export interface RedisPoint {
  /** Room messages delivered inside the window (deliveries / (N − 1)): one SEQUENCE script each. */
  messages: number;
  cpuUsPerMessage: number;
  /** Every command Redis executed, those inside scripts included (INFO commandstats). */
  commandsPerMessage: number;
  /** Top-level script calls (EVALSHA, or EVAL after a NOSCRIPT) per message. */
  scriptsPerMessage: number;
  /** Calls per message by command, most first. */
  byCommand: Array<[string, number]>;
  /** Redis's CPU time over the window, as a share of one core. */
  cpuPct: number;
  /** A Redis Cluster: each master's share of Redis's CPU time in the window, in %. */
  masterCpuPct?: number[];
  /** A Redis Cluster: commands per message on each master. */
  masterCommandsPerMessage?: number[];
}

export interface Latency {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface PointResult {
  /** Offered deliveries/s, or "max" for the saturation point. */
  offered: number | 'max';
  /** Deliveries counted inside the measurement window, per second. */
  achieved: number;
  windowMs: number;
  windowDeliveries: number;
  sentMessages: number;
  expected: number;
  delivered: number;
  /** delivered == expected and nobody disconnected. */
  ok: boolean;
  /** The server fell more than a second of offered load behind and sending stopped early. */
  overloaded: boolean;
  serverCpuUs: number;
  cpuUsPerDelivery: number;
  /** The same split into user and kernel time (utime and stime of /proc/PID/stat). */
  userUsPerDelivery: number;
  systemUsPerDelivery: number;
  /** Write-family system calls per delivery (syscw of /proc/PID/io); NaN if unreadable. */
  writeCallsPerDelivery: number;
  /**
   * The server core's whole busy time per delivery: the process plus the kernel's softirq
   * network work, plus anything else that ran on that core (the machine may be shared).
   */
  coreUsPerDelivery: number;
  softirqUsPerDelivery: number;
  /**
   * Share of the server core's window spent on neither the server nor its softirq work
   * (other processes, or the hypervisor's steal): the machine may be shared.
   */
  interferencePct: number;
  /** Deliveries per generator socket read: how much the server batched its writes. */
  linesPerRead: number;
  genCpuPct: number;
  latency: Latency;
  reorders: number;
  /** A cluster's Redis over the window; null for a single server. */
  redis: RedisPoint | null;
  /** Each node's share of the servers' CPU time in the window (a cluster's balance). */
  nodeCpuPct: number[];
  notes: string[];
}

export interface RunResult {
  label: string;
  ok: boolean;
  errors: string[];
  register: {
    n: number;
    concurrency: number;
    ms: number;
    ok: boolean;
    /** Clients registered when the phase ended (all of them, unless it timed out). */
    registered: number;
    serverCpuMs: number;
    genCpuPct: number;
  } | null;
  /**
   * settleMs: quiet time before the reading, until RSS held steady (see settledRss).
   * A cluster's figures add up its nodes; redisKb is its Redis's RSS, apart.
   */
  rss: {
    startKb: number;
    idleKb: number;
    perClientBytes: number;
    settleMs: number;
    redisKb?: number;
  } | null;
  /** The server processes' CPU while nobody talks, in % of one core (all nodes together). */
  idleCpuPct: number | null;
  /** A cluster's Redis while nobody talks (leases, probes): its background load. */
  redisIdle: { commandsPerSecond: number; cpuPct: number } | null;
  join: { ms: number; ok: boolean } | null;
  points: PointResult[];
  saturation: PointResult | null;
  pair: { expected: number; delivered: number; ms: number; ok: boolean } | null;
  disconnects: number;
  disconnectReasons: string[];
  genMaxCpuPct: number;
  durationMs: number;
  /** A scale run's own figures (bench/scale.ts); the fields above stay empty there. */
  scale?: ScaleResult;
  /** A bus on a Redis Cluster: where the benchmark room's slot lives. */
  redisShard?: RoomShard;
}

/** Messages the generator sends to the orchestrator. */
export type WorkerMessage =
  { type: 'progress'; text: string } | { type: 'result'; result: RunResult };
