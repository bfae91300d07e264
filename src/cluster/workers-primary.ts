/**
 * The primary of `plugboard serve --workers N`: forks N worker processes (workers-child.ts)
 * that serve the same ports, and looks after them. It serves no chat itself.
 *
 * Why node:cluster: Node 20 has no `reusePort` for net servers (it came with Node 22.12 /
 * 23.1; here `listen({ reusePort: true })` twice gives EADDRINUSE). With node:cluster the
 * primary holds each TCP listening socket and hands accepted connections to the workers in
 * turn (round-robin, the default on Linux), for plain TCP, TLS and HTTP alike. A listener
 * on port 0 gets one free port, shared by every worker that listens in the same order;
 * the ready file is written here, once every worker listens, with those ports.
 *
 * Also here, once per host rather than once per worker:
 * - the UDP echo: a UDP socket shared through node:cluster would hand each datagram to
 *   whichever worker reads first, and each worker's per-source limit would let N times
 *   the configured rate through;
 * - the admin socket (data/admin.sock): its commands reach the workers over IPC
 *   (workers-admin.ts), so `plugboard admin stats` shows the whole host.
 *
 * Lifecycle: the first worker starts alone (it creates or migrates the store while no one
 * else opens it), then the others. A worker that dies before the host is ready fails the
 * start. Once serving, a worker that dies is restarted after a backoff
 * (workers-backoff.ts); its clients lose their connection and reconnect to the others.
 * close() tells every worker to stop (each tells its clients why) and waits for them.
 */
import cluster, { type Worker } from 'node:cluster';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerConfig } from '../config.js';
import { systemClock, type Logger } from '../core/ports.js';
import { listenAdmin, type AdminSocket } from '../transports/admin-socket.js';
import { listenUdpEcho, type UdpEcho } from '../transports/udp.js';
import { RestartBackoff, type BackoffOptions, DEFAULT_BACKOFF } from './workers-backoff.js';
import {
  isOurs,
  SLOT_ENV,
  type Addresses,
  type ToPrimary,
  type ToWorker,
} from './workers-messages.js';
import { runHostCommand } from './workers-admin.js';

/** One place for a worker, kept across its restarts. */
export interface WorkerSlot {
  readonly slot: number;
  worker: Worker | null;
  /** Listening, answering IPC. */
  serving: boolean;
  nodeId: string | null;
  restarts: number;
  startedAt: number;
  readonly backoff: RestartBackoff;
  restartTimer: NodeJS.Timeout | null;
}

export interface WorkerHost {
  readonly slots: readonly WorkerSlot[];
  /** The UDP echo this primary runs, or null when it is off. */
  readonly udp: UdpEcho | null;
  /** Sends a request to a serving worker; resolves with its answer, or null (no answer). */
  request(slot: WorkerSlot, message: ToWorker & { id: number }): Promise<ToPrimary | null>;
  nextId(): number;
  /** Runs an admin command line for the whole host. */
  run(line: string): Promise<string[]>;
  /** Stops every worker gracefully; rejects if one did not stop cleanly. */
  close(reason: string): Promise<void>;
}

export interface WorkerHooks {
  /** An operator (admin `shutdown`) or a worker asked the host to stop. */
  requestShutdown(reason: string): void;
  /** Tests: faster restarts. */
  backoff?: BackoffOptions;
}

/** How long an IPC request may take before the worker counts as not answering. */
const REQUEST_TIMEOUT_MS = 5000;
/** Beyond the shutdown grace: time for a worker to close its store and exit. */
const EXIT_MARGIN_MS = 10_000;

class StartupError extends Error {}

export async function startWorkers(
  config: ServerConfig,
  log: Logger,
  hooks: WorkerHooks,
): Promise<WorkerHost> {
  mkdirSync(config.dataDir, { recursive: true });
  const slots: WorkerSlot[] = Array.from({ length: config.workers }, (_, i) => ({
    slot: i + 1,
    worker: null,
    serving: false,
    nodeId: null,
    restarts: 0,
    startedAt: 0,
    backoff: new RestartBackoff(hooks.backoff ?? DEFAULT_BACKOFF),
    restartTimer: null,
  }));
  let stopping = false;
  let stopReason = '';
  let hostReady = false;
  let hostAddresses: Addresses | null = null;
  let lastId = 0;
  const pending = new Map<number, { slot: WorkerSlot; resolve(m: ToPrimary | null): void }>();
  const exits = new Map<WorkerSlot, Promise<number>>();
  /** Settled by the first worker failure before the host is ready. */
  let failStartup: (err: Error) => void = () => {};
  const startupFailed = new Promise<never>((_, reject) => {
    failStartup = reject;
  });
  startupFailed.catch(() => {});

  const answer = (id: number, m: ToPrimary | null): void => {
    const waiting = pending.get(id);
    if (!waiting) return;
    pending.delete(id);
    waiting.resolve(m);
  };

  const onMessage = (s: WorkerSlot, m: ToPrimary, ready: (a: Addresses) => void): void => {
    switch (m.pb) {
      case 'ready':
        s.serving = true;
        s.nodeId = m.nodeId;
        // A worker told to stop while it was still loading may not have heard it.
        if (stopping) s.worker?.send({ pb: 'shutdown', reason: stopReason } satisfies ToWorker);
        ready(m.addresses);
        break;
      case 'failed':
        if (!hostReady) failStartup(new StartupError(m.message));
        else log.error({ worker: s.slot, error: m.message }, 'worker could not start');
        break;
      case 'reply':
      case 'stats':
        answer(m.id, m);
        break;
      case 'shutdown-request':
        hooks.requestShutdown(m.reason);
        break;
    }
  };

  /** Forks the worker of a slot; resolves with its addresses once it serves. */
  const fork = (s: WorkerSlot): Promise<Addresses> => {
    const worker = cluster.fork({ [SLOT_ENV]: String(s.slot) });
    s.worker = worker;
    s.serving = false;
    s.nodeId = null;
    s.startedAt = Date.now();
    let exitCode!: (code: number) => void;
    exits.set(
      s,
      new Promise<number>((resolve) => {
        exitCode = resolve;
      }),
    );
    return new Promise<Addresses>((resolve) => {
      // A send to a worker that is exiting fails; its exit is handled below.
      worker.on('error', (err) => log.debug({ err, worker: s.slot }, 'worker IPC error'));
      worker.on('message', (m: unknown) => {
        if (isOurs<ToPrimary>(m)) onMessage(s, m, resolve);
      });
      worker.on('exit', (code, signal) => {
        s.worker = null;
        s.serving = false;
        for (const [id, p] of pending) if (p.slot === s) answer(id, null);
        exitCode(code ?? 1);
        if (stopping) return;
        const how = signal ? `signal ${signal}` : `code ${code}`;
        if (!hostReady) {
          failStartup(new StartupError(`worker ${s.slot} exited at start (${how})`));
          return;
        }
        const delay = s.backoff.next(Date.now() - s.startedAt);
        log.error(
          { worker: s.slot, pid: worker.process.pid, code, signal, restartInMs: delay },
          `worker ${s.slot} died (${how}); its clients were disconnected; restarting in ${delay} ms`,
        );
        s.restartTimer = setTimeout(() => {
          s.restartTimer = null;
          s.restarts++;
          void fork(s).then((addresses) => {
            if (JSON.stringify(addresses) !== JSON.stringify(withoutUdp(hostAddresses))) {
              // Only when every worker had died at once with port 0 listeners: the
              // shared sockets were closed, and new free ports were picked.
              log.warn({ worker: s.slot, addresses }, 'restarted worker listens on other ports');
            }
            log.info(
              { worker: s.slot, pid: s.worker?.process.pid },
              `worker ${s.slot} serving again`,
            );
          });
        }, delay);
      });
    });
  };

  let admin: AdminSocket | null = null;
  let udp: UdpEcho | null = null;

  const stopWorkers = async (reason: string): Promise<boolean> => {
    stopping = true;
    stopReason = reason;
    for (const s of slots) {
      if (s.restartTimer) clearTimeout(s.restartTimer);
      s.restartTimer = null;
    }
    const live = slots.filter((s) => s.worker !== null);
    for (const s of live) {
      const message: ToWorker = { pb: 'shutdown', reason };
      s.worker?.send(message);
    }
    const deadline = setTimeout(() => {
      for (const s of live) {
        if (s.worker) {
          log.error({ worker: s.slot }, 'worker did not stop in time; killing it');
          s.worker.process.kill('SIGKILL');
        }
      }
    }, config.options.shutdownGraceMs + EXIT_MARGIN_MS);
    const codes = await Promise.all(live.map((s) => exits.get(s) as Promise<number>));
    clearTimeout(deadline);
    return codes.every((c) => c === 0);
  };

  const closeHost = async (reason: string): Promise<boolean> => {
    const clean = await stopWorkers(reason);
    await admin?.close();
    await udp?.close();
    return clean;
  };

  // The UDP echo and the admin socket first: a port or socket in use fails here, before
  // any worker starts.
  if (config.ports.udp >= 0) {
    udp = await listenUdpEcho({
      host: config.host,
      port: config.ports.udp,
      packetsPerSecond: config.udp.rate,
      bytesPerSecond: config.udp.byteRate,
      maxSources: config.udp.maxSources,
      recvBufferSize: config.udp.recvBufferSize,
      sendBufferSize: config.udp.sendBufferSize,
      clock: systemClock,
      log,
    });
  }

  let closing: Promise<void> | null = null;
  const host: WorkerHost = {
    slots,
    udp,
    nextId: () => ++lastId,
    request(s, message) {
      const worker = s.worker;
      if (!worker || !s.serving) return Promise.resolve(null);
      return new Promise((resolve) => {
        const timer = setTimeout(() => answer(message.id, null), REQUEST_TIMEOUT_MS);
        pending.set(message.id, {
          slot: s,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
        worker.send(message);
      });
    },
    run: (line) => runHostCommand(host, line, hooks.requestShutdown),
    close(reason) {
      closing ??= closeHost(reason).then((clean) => {
        if (!clean) throw new Error('a worker did not stop cleanly');
      });
      return closing;
    },
  };

  try {
    admin = await listenAdmin(join(config.dataDir, 'admin.sock'), host.run);
  } catch (err) {
    log.warn({ err }, 'admin socket unavailable');
  }

  try {
    const [first, ...rest] = slots as [WorkerSlot, ...WorkerSlot[]];
    const firstAddresses = await Promise.race([fork(first), startupFailed]);
    const others = await Promise.race([Promise.all(rest.map(fork)), startupFailed]);
    for (const [i, addresses] of others.entries()) {
      if (JSON.stringify(addresses) !== JSON.stringify(firstAddresses)) {
        throw new StartupError(
          `worker ${i + 2} listens on ${JSON.stringify(addresses)}, worker 1 on ${JSON.stringify(firstAddresses)}`,
        );
      }
    }
    hostAddresses = udp
      ? { ...firstAddresses, udp: { host: udp.host, port: udp.port } }
      : firstAddresses;
  } catch (err) {
    await closeHost('startup failed');
    throw err;
  }
  hostReady = true;

  log.info({ workers: slots.map((s) => s.worker?.process.pid) }, `${slots.length} workers serving`);
  if (config.store === 'memory') {
    // Not refused (benchmarks and tests want no disk), but said: replays and /since
    // would differ with the worker a person happens to land on.
    log.warn(
      { store: 'memory', workers: slots.length },
      '--store memory with --workers: each worker keeps a history of its own, so what a person is replayed depends on their worker; use the default SQLite store (shared by the workers) or --store postgres://',
    );
  }
  if (udp)
    log.info(
      { listener: 'udp', host: udp.host, port: udp.port },
      `udp listening on ${udp.host}:${udp.port}`,
    );
  if (config.readyFile) {
    // Write then rename, so a script polling for the file never reads half of it.
    writeFileSync(`${config.readyFile}.tmp`, JSON.stringify(hostAddresses) + '\n');
    renameSync(`${config.readyFile}.tmp`, config.readyFile);
  }
  return host;
}

function withoutUdp(addresses: Addresses | null): Addresses {
  const rest = { ...addresses };
  delete rest.udp;
  return rest;
}
