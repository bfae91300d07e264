/**
 * Composition root: builds the store, the bus and the hub from the configuration, starts
 * every listener, writes the ready file, and shuts it all down in order.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Admission } from './core/admission.js';
import { Hub } from './core/hub.js';
import type { Bus, Logger, Store } from './core/ports.js';
import type { ServerConfig } from './config.js';
import { LocalBus } from './cluster/local.js';
import { isRedisBus } from './cluster/redis-url.js';
import { createStore } from './store/index.js';
import { DescriptorWatch } from './transports/descriptors.js';
import { Linger } from './transports/linger.js';
import { LogThrottle } from './transports/log-throttle.js';
import type { TransportStats } from './transports/stats.js';
import { listenTcp, type ConnectionGate, type RunningListener } from './transports/tcp.js';
import { refusalLine, serveLine } from './protocols/line/connection.js';
import { framedRefusal, serveFramed } from './protocols/framed/connection.js';
import { ircRefusal, serveIrc } from './protocols/irc/index.js';
import { listenAdmin, type AdminSocket } from './transports/admin-socket.js';
import { runAdminCommand } from './admin/commands.js';
import { listenWeb } from './web-listener.js';
import { listenUdpEcho } from './transports/udp.js';
import { join } from 'node:path';

export interface RunningServer {
  hub: Hub;
  listeners: RunningListener[];
  /** Connection counts, lingering closes, descriptors, UDP: for stats and tests. */
  transport: TransportStats;
  /** Listener name → address, as written to the ready file. */
  addresses(): Record<string, { host: string; port: number }>;
  /** Graceful shutdown: tell everyone, drain, close listeners, store and bus. */
  close(reason?: string): Promise<void>;
}

function openStore(config: ServerConfig, log: Logger): Promise<Store> {
  return createStore(
    config.store,
    config.dataDir,
    config.options.historyRing,
    log,
    config.storeQueue,
  );
}

/**
 * The bus: in-process by default. `PLUGBOARD_TEST_BUS=async` swaps in the test bus that
 * delivers on a later turn after a JSON round trip, so any test run can show that nothing
 * relies on synchronous delivery (CI runs the suite both ways).
 */
async function createBus(config: ServerConfig, env = process.env): Promise<Bus> {
  if (config.bus !== 'local') {
    throw new Error(
      `--bus must be 'local', a redis:// or rediss:// URL, or redis+cluster://HOST:PORT,… (got "${config.bus}")`,
    );
  }
  if (env.PLUGBOARD_TEST_BUS === 'async') {
    const { AsyncBus } = await import('./cluster/async.js');
    return new AsyncBus();
  }
  return new LocalBus();
}

/** What every listener shares: admission, the linger, the descriptor watch. */
export interface Transports {
  /** Chat admission (TCP listeners and WebSocket sessions): the hub's checks, then the counts. */
  gate: ConnectionGate;
  chat: Admission;
  http: Admission;
  linger: Linger;
  descriptors: DescriptorWatch;
  stats: TransportStats;
}

const HTTP_REASONS = {
  full: 'the server has too many HTTP connections',
  perAddress: 'too many HTTP connections from your address',
};

export function createTransports(config: ServerConfig, hub: Hub, log: Logger): Transports {
  const exempt = (address: string): boolean => config.limitExempt.has(address);
  const chat = new Admission({
    maxTotal: config.options.maxConnections,
    maxPerAddress: config.options.maxConnectionsPerIp,
    exempt,
  });
  const http = new Admission({
    maxTotal: config.http.maxConnections,
    maxPerAddress: config.http.maxPerIp,
    exempt,
    reasons: HTTP_REASONS,
  });
  const linger = new Linger(config.closeLingerMs);
  const descriptors = new DescriptorWatch(config.descriptors.limit, log, () => ({
    chat: chat.total,
    http: http.total,
    lingeringRefusals: linger.refusing,
  }));
  const refusals = new LogThrottle(log, 'connection refused');
  const gate: ConnectionGate = {
    admit(address) {
      const refused = hub.admit(address) ?? chat.admit(address);
      if (refused !== null) {
        hub.counters.connectionsRefused++;
        refusals.warn({ address, reason: refused });
      }
      return refused;
    },
    release: (address) => chat.release(address),
  };
  const stats: TransportStats = {
    chat,
    http: config.ports.http >= 0 ? http : null,
    linger,
    descriptors,
    udp: null,
    adminLinesTooLong: () => 0,
  };
  return { gate, chat, http, linger, descriptors, stats };
}

export interface StartHooks {
  /** Called when an operator asks for shutdown (console, admin socket); default: close(). */
  requestShutdown?(reason: string): void;
  /** A bus of your own (embedding, several nodes in one test) instead of `--bus`. */
  bus?: Bus;
  /** A store of your own instead of `--store`. */
  store?: Store;
  /** False: no admin socket (a worker process: its primary owns the socket). */
  adminSocket?: boolean;
}

export async function startServer(
  config: ServerConfig,
  log: Logger,
  hooks: StartHooks = {},
): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true });
  const store = hooks.store ?? (await openStore(config, log));
  // A Redis bus is a node of a cluster: its bus, shared presence and leases together.
  const cluster =
    !hooks.bus && isRedisBus(config.bus)
      ? await (
          await import('./cluster/redis-node.js')
        ).redisNode({
          url: config.bus,
          log,
          defaultRoom: config.options.defaultRoom,
          store: config.store,
          dataDir: config.dataDir,
          leaseMs: config.nodeLeaseMs,
          renewMs: Math.max(500, Math.floor(config.nodeLeaseMs / 3)),
        })
      : null;
  const bus = hooks.bus ?? cluster?.bus ?? (await createBus(config));
  const hub = new Hub(config.options, store, bus, log, undefined, cluster?.extras ?? {});
  await hub.start();
  await cluster?.start();

  const tls =
    config.tlsCert && config.tlsKey
      ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) }
      : undefined;
  const listeners: RunningListener[] = [];
  const t = createTransports(config, hub, log);
  const onError = (err: Error): void => {
    if (t.descriptors.acceptError(err as NodeJS.ErrnoException, 'listener')) return;
    log.error({ err }, 'listener error');
  };
  const { limit, reserve, derived } = config.descriptors;
  const maxConnections = config.options.maxConnections;
  if (limit !== null && maxConnections + reserve > limit) {
    log.warn(
      { maxConnections, openFileLimit: limit, reserve },
      derived
        ? 'the open-file limit is too low for the descriptor reserve: raise it (ulimit -n)'
        : '--max-connections is more than the open-file limit leaves after the reserve: ' +
            'when it is reached, new connections (/healthz too) may be dropped unseen',
    );
  } else if (derived) {
    log.info(
      { maxConnections, openFileLimit: limit, reserve },
      'chat connection limit from the open-file limit',
    );
  }
  t.descriptors.start();
  const tcp = async (
    name: string,
    protocol: string,
    port: number,
    secure: boolean,
    refusal: (r: string) => Buffer,
    onLink: Parameters<typeof listenTcp>[0]['onLink'],
  ) => {
    if (port < 0 || (secure && !tls)) return;
    listeners.push(
      await listenTcp({
        name,
        protocol,
        host: config.host,
        port,
        backlog: config.backlog,
        keepaliveMs: config.tcpKeepaliveMs,
        ...(secure && tls ? { tls } : {}),
        gate: t.gate,
        linger: t.linger,
        refusal,
        onLink,
        onError,
      }),
    );
  };

  try {
    await tcp('line', 'line', config.ports.line, false, refusalLine, (link) =>
      serveLine(hub, link),
    );
    await tcp('line-tls', 'line', config.ports.lineTls, true, refusalLine, (link) =>
      serveLine(hub, link),
    );
    await tcp('framed', 'framed', config.ports.framed, false, framedRefusal, (link) =>
      serveFramed(hub, link, config.maxFrame),
    );
    await tcp('framed-tls', 'framed', config.ports.framedTls, true, framedRefusal, (link) =>
      serveFramed(hub, link, config.maxFrame),
    );
    await tcp('irc', 'irc', config.ports.irc, false, ircRefusal, (link) => serveIrc(hub, link));
    await tcp('irc-tls', 'irc', config.ports.ircTls, true, ircRefusal, (link) =>
      serveIrc(hub, link),
    );
    if (config.ports.http >= 0) {
      listeners.push(
        await listenWeb(config, hub, {
          gate: t.gate,
          admission: t.http,
          linger: t.linger,
          transport: t.stats,
          onError,
          ...(tls ? { tls } : {}),
        }),
      );
    }
    if (config.ports.udp >= 0) {
      const udp = await listenUdpEcho({
        host: config.host,
        port: config.ports.udp,
        packetsPerSecond: config.udp.rate,
        bytesPerSecond: config.udp.byteRate,
        maxSources: config.udp.maxSources,
        recvBufferSize: config.udp.recvBufferSize,
        sendBufferSize: config.udp.sendBufferSize,
        clock: hub.clock,
        log: hub.log,
      });
      t.stats.udp = udp;
      listeners.push(udp);
    }
  } catch (err) {
    t.descriptors.stop();
    await Promise.all(listeners.map((l) => l.close()));
    await hub.shutdown('startup failed');
    throw err;
  }

  let admin: AdminSocket | null = null;
  const requestShutdown = (reason: string): void => {
    if (hooks.requestShutdown) hooks.requestShutdown(reason);
    else void running.close(reason);
  };
  try {
    if (hooks.adminSocket !== false) {
      const ctx = { hub, shutdown: requestShutdown, transport: t.stats };
      const socket = await listenAdmin(
        join(config.dataDir, 'admin.sock'),
        (line) => runAdminCommand(ctx, line),
        { linger: t.linger, onError },
      );
      admin = socket;
      t.stats.adminLinesTooLong = () => socket.linesTooLong;
    }
  } catch (err) {
    log.warn({ err }, 'admin socket unavailable');
  }

  const addresses = (): Record<string, { host: string; port: number }> =>
    Object.fromEntries(listeners.map((l) => [l.name, { host: l.host, port: l.port }]));

  // One clear line per listener: what to connect to.
  for (const l of listeners) {
    // With TLS on, the HTTP port speaks HTTPS only: say so, `http://` would get nowhere.
    const note = l.name === 'http' && tls ? ' (HTTPS only: https:// and wss://)' : '';
    log.info(
      { listener: l.name, host: l.host, port: l.port },
      `${l.name} listening on ${l.host}:${l.port}${note}`,
    );
  }
  if (config.readyFile) {
    // Write then rename, so a script polling for the file never reads half of it.
    writeFileSync(`${config.readyFile}.tmp`, JSON.stringify(addresses()) + '\n');
    renameSync(`${config.readyFile}.tmp`, config.readyFile);
  }

  let closing: Promise<void> | null = null;
  const running: RunningServer = {
    hub,
    listeners,
    transport: t.stats,
    addresses,
    close(reason = 'server shutting down') {
      closing ??= (async () => {
        t.descriptors.stop();
        const stopAccepting = Promise.all(listeners.map((l) => l.close()));
        await admin?.close();
        await hub.shutdown(reason);
        await stopAccepting;
      })();
      return closing;
    },
  };
  return running;
}
