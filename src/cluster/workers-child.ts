/**
 * One worker process of `plugboard serve --workers N`: a whole server (hub, store, bus,
 * listeners) whose listening sockets node:cluster shares with its siblings, run by the
 * primary (workers-primary.ts) over IPC. Differences from a single process: no ready file,
 * no UDP echo and no admin socket (the primary has them, once for the host), no console,
 * and signals are the primary's to act on.
 */
import cluster from 'node:cluster';
import type { Logger } from '../core/ports.js';
import type { ServerConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';
import { runAdminCommand } from '../admin/commands.js';
import { statsSnapshot } from '../admin/stats.js';
import { isOurs, SLOT_ENV, type ToPrimary, type ToWorker } from './workers-messages.js';

interface ChildLogger extends Logger {
  child(bindings: object): Logger;
}

export async function runWorker(config: ServerConfig, baseLog: ChildLogger): Promise<never> {
  const slot = Number(process.env[SLOT_ENV] ?? cluster.worker?.id ?? 0);
  const log = baseLog.child({ worker: slot });
  const send = (m: ToPrimary): Promise<void> =>
    new Promise((resolve) => {
      if (!process.connected || !process.send) resolve();
      else process.send(m, undefined, {}, () => resolve());
    });

  // Ctrl-C in a terminal signals the whole process group, and systemd's default
  // KillMode=control-group signals every process of the unit: the workers hear the same
  // signal as the primary. The primary stops them in order (and knows a worker that exits
  // then did not crash), so a worker leaves signals to it. If the primary itself dies,
  // node:cluster ends its workers at once.
  const ignore = (): void => log.debug({}, 'signal left to the primary');
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);

  let server: RunningServer | null = null;
  let stopReason: string | null = null;
  const stop = (reason: string): void => {
    if (stopReason !== null) return;
    stopReason = reason;
    if (server) void close(server, reason);
  };
  const close = async (running: RunningServer, reason: string): Promise<never> => {
    let code = 0;
    try {
      await running.close(reason);
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      code = 1;
    }
    process.exit(code);
  };

  process.on('message', (m: unknown) => {
    if (!isOurs<ToWorker>(m)) return;
    if (m.pb === 'shutdown') stop(m.reason);
    else if (m.pb === 'stats') {
      if (server)
        void send({
          pb: 'stats',
          id: m.id,
          stats: statsSnapshot(server.hub, server.transport),
        });
    } else if (m.pb === 'admin') {
      const running = server;
      const answer = running
        ? runAdminCommand(
            {
              hub: running.hub,
              transport: running.transport,
              shutdown: (reason) => void send({ pb: 'shutdown-request', reason }),
            },
            m.line,
          ).catch((err: unknown) => [`error: ${(err as Error).message}`])
        : Promise.resolve(['not serving yet']);
      void answer.then((lines) => send({ pb: 'reply', id: m.id, lines }));
    }
  });

  // The last resort, as in a single process (cli.ts): a bug one request triggered is
  // logged and counted, and the worker keeps serving its share of the clients.
  const lastResort = (err: unknown, kind: string): void => {
    if (server) server.hub.counters.handlerErrors++;
    log.error({ err, kind }, 'uncaught error; still serving');
  };
  process.on('uncaughtException', (err) => lastResort(err, 'exception'));
  process.on('unhandledRejection', (err) => lastResort(err, 'rejection'));

  try {
    server = await startServer(
      { ...config, readyFile: null, console: false, ports: { ...config.ports, udp: -1 } },
      log,
      {
        adminSocket: false,
        requestShutdown: (reason) => void send({ pb: 'shutdown-request', reason }),
      },
    );
  } catch (err) {
    await send({ pb: 'failed', message: (err as Error).message });
    process.exit(1);
  }
  if (stopReason !== null) return close(server, stopReason);
  await send({ pb: 'ready', addresses: server.addresses(), nodeId: server.hub.nodeId });
  // Runs until the primary says stop (close() exits the process).
  return new Promise<never>(() => {});
}
