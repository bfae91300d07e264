/**
 * Prometheus metrics (prom-client) for GET /metrics. The hub keeps plain counters (cheap
 * increments on the hot path); they are read only when Prometheus scrapes.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Hub } from './core/hub.js';
import type { Counters } from './core/counters.js';
import type { TransportStats } from './transports/stats.js';

type CounterField = {
  [K in keyof Counters]: Counters[K] extends number ? K : never;
}[keyof Counters];

const TOTALS: [name: string, help: string, field: CounterField][] = [
  ['plugboard_connections_accepted_total', 'Connections accepted', 'connectionsAccepted'],
  [
    'plugboard_connections_refused_total',
    'Connections refused (full, per-address limit, banned, shutting down)',
    'connectionsRefused',
  ],
  ['plugboard_messages_in_total', 'Chat messages and private messages sent', 'messagesIn'],
  [
    'plugboard_deliveries_total',
    'Encoded events handed to connections (messages out, fan-out)',
    'deliveries',
  ],
  [
    'plugboard_encodings_total',
    'Distinct event encodings built (one per wire format)',
    'encodings',
  ],
  [
    'plugboard_send_queue_evictions_total',
    'Slow readers closed with "send queue exceeded"',
    'sendQueueEvictions',
  ],
  ['plugboard_flood_delayed_total', 'Inputs delayed by flood control', 'floodDelayed'],
  ['plugboard_flood_dropped_total', 'Inputs dropped by flood control', 'floodDropped'],
  [
    'plugboard_handler_errors_total',
    'Requests and commands whose handler failed unexpectedly (each cost only that request)',
    'handlerErrors',
  ],
];

/** A counter read from a plain number when Prometheus scrapes. */
function total(register: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [register],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function gauge(register: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [register],
    collect() {
      this.set(read());
    },
  });
}

/**
 * The transports' counts: sockets held against the limits (until each descriptor is
 * closed), refusals by cause, lingering closes, descriptor exhaustion, UDP echo.
 * process_open_fds and process_max_fds come with the default metrics.
 */
function transportMetrics(register: Registry, t: TransportStats): void {
  gauge(
    register,
    'plugboard_chat_sockets',
    'Chat sockets held (TCP and WebSocket), until each closes',
    () => t.chat.total,
  );
  gauge(
    register,
    'plugboard_chat_sockets_max',
    'Chat socket limit (--max-connections)',
    () => t.chat.limits.maxTotal,
  );
  total(
    register,
    'plugboard_chat_refused_full_total',
    'Chat connections refused: --max-connections reached',
    () => t.chat.refusedFull,
  );
  total(
    register,
    'plugboard_chat_refused_per_address_total',
    'Chat connections refused: --max-per-ip reached',
    () => t.chat.refusedPerAddress,
  );
  const http = t.http;
  if (http) {
    gauge(
      register,
      'plugboard_http_sockets',
      'HTTP sockets held (not upgraded), until each closes',
      () => http.total,
    );
    total(
      register,
      'plugboard_http_refused_full_total',
      'HTTP connections answered 503: --http-max-connections reached',
      () => http.refusedFull,
    );
    total(
      register,
      'plugboard_http_refused_per_address_total',
      'HTTP connections answered 503: --http-max-per-ip reached',
      () => http.refusedPerAddress,
    );
  }
  gauge(
    register,
    'plugboard_lingering_refusals',
    'Refused sockets waiting for their peer to close',
    () => t.linger.refusing,
  );
  total(
    register,
    'plugboard_refused_at_once_total',
    'Refused sockets destroyed at once (too many lingering)',
    () => t.linger.refusedAtOnce,
  );
  total(
    register,
    'plugboard_close_linger_expired_total',
    'Server-closed sockets destroyed because the peer did not close within the linger',
    () => t.linger.expired,
  );
  total(
    register,
    'plugboard_fd_exhaustions_total',
    'Times the process ran out of file descriptors (libuv then closes new connections at once)',
    () => t.descriptors.exhaustions,
  );
  gauge(
    register,
    'plugboard_fd_exhausted',
    '1 while the process has no file descriptor left',
    () => (t.descriptors.exhausted ? 1 : 0),
  );
  total(
    register,
    'plugboard_accept_errors_total',
    'accept() failures reported by libuv (EMFILE, ENFILE)',
    () => t.descriptors.acceptErrors,
  );
  total(
    register,
    'plugboard_admin_lines_too_long_total',
    'Admin socket connections closed for an over-long line',
    () => t.adminLinesTooLong(),
  );
  // The echo may start after this registry is made: read it at each scrape.
  total(register, 'plugboard_udp_echoed_total', 'UDP datagrams echoed', () => t.udp?.echoed ?? 0);
  total(
    register,
    'plugboard_udp_dropped_total',
    'UDP datagrams dropped by the per-source limits',
    () => t.udp?.dropped ?? 0,
  );
  gauge(
    register,
    'plugboard_udp_sources',
    'UDP source addresses with limits of their own',
    () => t.udp?.sources ?? 0,
  );
  total(
    register,
    'plugboard_udp_overflowed_total',
    'UDP datagrams charged to the shared overflow budget (source table full of busy sources)',
    () => t.udp?.overflowed ?? 0,
  );
  total(
    register,
    'plugboard_udp_evicted_total',
    'Idle UDP sources whose entry went to a new source',
    () => t.udp?.evicted ?? 0,
  );
}

export function createMetrics(hub: Hub, transport?: TransportStats): Registry {
  const register = new Registry();
  // Process memory, CPU, GC, and event-loop lag (nodejs_eventloop_lag_*, from
  // monitorEventLoopDelay): the one number that says the single thread is overloaded.
  collectDefaultMetrics({ register });

  for (const [name, help, field] of TOTALS) {
    new Counter({
      name,
      help,
      registers: [register],
      collect() {
        this.reset();
        this.inc(hub.counters[field]);
      },
    });
  }
  new Gauge({
    name: 'plugboard_connections',
    help: 'Open connections by wire protocol',
    labelNames: ['protocol'],
    registers: [register],
    collect() {
      this.reset();
      for (const [protocol, n] of hub.counters.byProtocol) this.set({ protocol }, n);
    },
  });
  new Gauge({
    name: 'plugboard_users_online',
    help: 'People online in the whole chat (every node of a cluster)',
    registers: [register],
    async collect() {
      this.set(
        await hub.presence.counts().then(
          (c) => c.users,
          () => hub.online,
        ),
      );
    },
  });
  new Gauge({
    name: 'plugboard_node_users_online',
    help: 'People online on this node',
    registers: [register],
    collect() {
      this.set(hub.online);
    },
  });
  new Gauge({
    name: 'plugboard_rooms',
    help: 'Rooms with at least one member (in the whole chat)',
    registers: [register],
    async collect() {
      this.set(
        await hub.presence.counts().then(
          (c) => c.rooms,
          () => hub.rooms.count,
        ),
      );
    },
  });
  new Gauge({
    name: 'plugboard_bus_healthy',
    help: '1 while the bus reaches every node (Redis up, subscription delivering), else 0',
    registers: [register],
    collect() {
      this.set(hub.bus.healthy() ? 1 : 0);
    },
  });
  new Counter({
    name: 'plugboard_bus_outages_total',
    help: 'Times the bus lost the other nodes (Redis unreachable, a silent subscription)',
    registers: [register],
    collect() {
      this.reset();
      this.inc(hub.counters.busOutages);
    },
  });
  new Counter({
    name: 'plugboard_bus_lost_events_total',
    help: 'Events that did not reach this node (gaps not filled from the room streams)',
    registers: [register],
    collect() {
      this.reset();
      this.inc(hub.counters.busGaps);
    },
  });
  if (hub.presence.cluster) {
    const presence = hub.presence;
    new Gauge({
      name: 'plugboard_cluster_nodes',
      help: 'Nodes of the chat with a live lease',
      registers: [register],
      async collect() {
        this.set(
          await presence.cluster!().then(
            (c) => c.nodes.length,
            () => 0,
          ),
        );
      },
    });
  }
  // Store writes: a failing disk or database shows here before anyone complains.
  const storeStats = () => hub.store.stats?.();
  new Gauge({
    name: 'plugboard_store_backlog',
    help: 'Writes (messages first) accepted but not yet committed to the store',
    registers: [register],
    collect() {
      this.set(storeStats()?.backlog ?? hub.store.backlog?.() ?? 0);
    },
  });
  new Gauge({
    name: 'plugboard_store_healthy',
    help: '1 while store writes succeed, 0 while they fail (new messages are then refused)',
    registers: [register],
    collect() {
      this.set(hub.store.healthy() ? 1 : 0);
    },
  });
  new Counter({
    name: 'plugboard_store_write_failures_total',
    help: 'Failed store write attempts (each retry of a failing batch counts)',
    registers: [register],
    collect() {
      this.reset();
      this.inc(storeStats()?.failed ?? 0);
    },
  });
  new Counter({
    name: 'plugboard_store_commits_total',
    help: 'Store write transactions committed (writes per commit: the batch size achieved)',
    registers: [register],
    collect() {
      this.reset();
      this.inc(storeStats()?.commits ?? 0);
    },
  });
  new Counter({
    name: 'plugboard_store_duplicate_ids_total',
    help: 'Messages not written because their id was already stored (each is logged)',
    registers: [register],
    collect() {
      this.reset();
      this.inc(storeStats()?.duplicates ?? 0);
    },
  });
  if (transport) transportMetrics(register, transport);
  return register;
}
