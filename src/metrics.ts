/**
 * Prometheus metrics (prom-client) for GET /metrics. The hub keeps plain counters (cheap
 * increments on the hot path); they are read only when Prometheus scrapes.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Hub } from './core/hub.js';
import type { Counters } from './core/counters.js';

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

export function createMetrics(hub: Hub): Registry {
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
    help: 'Connections that have chosen a name',
    registers: [register],
    collect() {
      this.set(hub.online);
    },
  });
  new Gauge({
    name: 'plugboard_rooms',
    help: 'Rooms with at least one member',
    registers: [register],
    collect() {
      this.set(hub.rooms.count);
    },
  });
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
    name: 'plugboard_store_duplicate_ids_total',
    help: 'Messages not written because their id was already stored (each is logged)',
    registers: [register],
    collect() {
      this.reset();
      this.inc(storeStats()?.duplicates ?? 0);
    },
  });
  return register;
}
