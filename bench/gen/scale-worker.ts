/**
 * One generator process of the scale run (bench/scale.ts): the orchestrator starts
 * several, because one process may hold only as many sockets as its open-file limit.
 * Each connects its share of line-protocol clients from its own loopback source address
 * (127.0.0.x: every source address has its own ephemeral port range, so 100,000
 * connections to one server port do not run out of ports), with its own nickname prefix,
 * and then answers the orchestrator's questions over IPC: how many of the room-wide
 * marker lines its clients have received, and "say a marker now" for its first client.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { registerAll } from './phases.js';
import { protocolFor } from './protocol.js';
import { Swarm, type Client } from './swarm.js';
import type { Endpoint } from './types.js';

export type ScaleCommand =
  | {
      type: 'connect';
      endpoints: Endpoint[];
      n: number;
      nickPrefix: string;
      localAddress: string;
      concurrency: number;
      timeoutMs: number;
    }
  | { type: 'count' }
  /**
   * A client of this process says a marker line in its room (#lobby): client `index`, or
   * with `last`, the registered client with the highest index (a fill cut short by its
   * time bound leaves the last clients unconnected).
   */
  | { type: 'say'; index: number; last?: boolean }
  | { type: 'stop' };

export type ScaleReply =
  | { type: 'progress'; registered: number }
  | { type: 'registered'; registered: number; ms: number; error: string | null; cpuPct: number }
  /** Which client said the marker (-1: none could). */
  | { type: 'said'; index: number }
  | {
      type: 'count';
      /** Marker lines ("… ~Z") received by this process's clients since it started. */
      markers: number;
      registered: number;
      disconnects: number;
      reasons: string[];
    };

const PROGRESS_MS = 2000;

function reply(m: ScaleReply): void {
  process.send?.(m);
}

let swarm: Swarm | null = null;

/** Welcomed and still connected (registration clears what the client waited for). */
function registered(c: Client | undefined): boolean {
  return !!c && c.socket !== null && !c.closed && c.waiting === null;
}

async function connect(c: Extract<ScaleCommand, { type: 'connect' }>): Promise<void> {
  const s = new Swarm(protocolFor('line'), c.endpoints, c.n, 1, 1, {
    nickPrefix: c.nickPrefix,
    localAddress: c.localAddress,
  });
  swarm = s;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const ticker = setInterval(
    () => reply({ type: 'progress', registered: s.registered }),
    PROGRESS_MS,
  );
  let error: string | null = null;
  await registerAll(s, c.n, c.concurrency, c.timeoutMs).catch((e: Error) => {
    error = e.message;
  });
  clearInterval(ticker);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  reply({
    type: 'registered',
    registered: s.registered,
    ms,
    error,
    cpuPct: ((cpu.user + cpu.system) / 1000 / ms) * 100,
  });
}

process.on('message', (m: ScaleCommand) => {
  switch (m.type) {
    case 'connect':
      void connect(m);
      break;
    case 'count':
      reply({
        type: 'count',
        markers: swarm?.barrier ?? 0,
        registered: swarm?.registered ?? 0,
        disconnects: swarm?.disconnects ?? 0,
        reasons: swarm?.reasons ?? [],
      });
      break;
    case 'say': {
      const s = swarm;
      if (!s) break;
      let i = m.index;
      if (m.last) while (i > 0 && !registered(s.clients[i])) i--;
      const c = s.clients[i];
      if (c && registered(c)) s.send(c, s.proto.say('#lobby', `Z ${i} ~Z`));
      reply({ type: 'said', index: c && registered(c) ? i : -1 });
      break;
    }
    case 'stop':
      swarm?.closeAll();
      // Let the sockets' teardown start before exiting.
      void sleep(200).then(() => process.exit(0));
      break;
  }
});
