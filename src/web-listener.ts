/**
 * Wires the HTTP listener to the hub: WebSocket sessions speak the JSON protocol, /readyz
 * asks the store and the bus, /metrics reads the hub's and the transports' counters.
 */
import type { ServerConfig } from './config.js';
import type { Admission } from './core/admission.js';
import type { Hub } from './core/hub.js';
import { createMetrics } from './metrics.js';
import { serveWs } from './protocols/ws/connection.js';
import { listenHttp } from './transports/http.js';
import type { Linger } from './transports/linger.js';
import { LogThrottle } from './transports/log-throttle.js';
import { defaultWebRoot } from './transports/static-files.js';
import type { TransportStats } from './transports/stats.js';
import type { ConnectionGate, RunningListener } from './transports/tcp.js';

export interface WebHooks {
  tls?: { cert: Buffer; key: Buffer };
  /** Chat admission, shared with the TCP listeners: WebSocket sessions count there. */
  gate: ConnectionGate;
  /** The HTTP listener's own connection counts and limits. */
  admission: Admission;
  linger: Linger;
  transport: TransportStats;
  onError(err: Error): void;
  /** Directory of the built client; default: the repository's web/dist. */
  webRoot?: string;
  /** Overrides --ws-keepalive (tests). */
  keepaliveMs?: number;
}

export function listenWeb(
  config: ServerConfig,
  hub: Hub,
  hooks: WebHooks,
): Promise<RunningListener> {
  const metrics = createMetrics(hub, hooks.transport);
  const refusals = new LogThrottle(hub.log, 'http connection refused');
  return listenHttp({
    name: 'http',
    host: config.host,
    port: config.ports.http,
    backlog: config.backlog,
    ...(hooks.tls ? { tls: hooks.tls } : {}),
    webRoot: hooks.webRoot ?? defaultWebRoot(),
    admission: hooks.admission,
    onRefused: (address, reason) => refusals.warn({ address, reason }),
    linger: hooks.linger,
    timeouts: config.http.timeouts,
    websocket: {
      maxPayload: config.maxFrame,
      origins: config.wsOrigins,
      publicHosts: config.publicHosts,
      // RFC 6455 leaves keepalive to us; the default 30 s is under common proxy idle
      // timeouts (60 s).
      keepaliveMs: hooks.keepaliveMs ?? config.wsKeepaliveMs,
      gate: hooks.gate,
      onLink: (link) => serveWs(hub, link),
    },
    readiness: () => {
      const checks = {
        store: hub.store.healthy(),
        bus: hub.bus.healthy(),
        accepting: !hub.isShuttingDown,
      };
      return { ready: Object.values(checks).every(Boolean), checks };
    },
    metrics: async () => ({ contentType: metrics.contentType, body: await metrics.metrics() }),
    onError: hooks.onError,
    onHandlerError: (err, where) => {
      hub.counters.handlerErrors++;
      hub.log.error({ err, where }, 'handler failed');
    },
  });
}
