/**
 * What Redis did during a measurement window: its CPU time and the commands it executed,
 * both from one `INFO cpu commandstats` at each edge of the window, over the generator's
 * own connection (the INFO calls themselves are left out of the count).
 *
 * - CPU: used_cpu_user + used_cpu_sys (getrusage of the whole process, microseconds).
 *   Not /proc/PID/stat, the servers' source: that counts in clock ticks of 10 ms, and
 *   Redis spends only tens of milliseconds in a window, so a tick either way would be a
 *   third of the figure.
 * - Commands: INFO commandstats counts the commands a Lua script calls too, so one
 *   SEQUENCE is one EVALSHA plus its HGET, HINCRBY, XADD, PUBLISH and HLEN.
 * - A Redis Cluster: every master is read (one INFO each, all sent at once) and the
 *   figures added up, so CPU and commands per message are the whole cluster's; each
 *   master's own share is kept too, which shows the room's shard doing the room's work.
 */
import { createClient } from 'redis';

/** Calls per command name ("evalsha", "hget", "config|resetstat"), from INFO commandstats. */
export function parseCommandStats(info: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of info.split('\n')) {
    // cmdstat_hget:calls=30,usec=48,usec_per_call=1.60,rejected_calls=0,failed_calls=0
    if (!line.startsWith('cmdstat_')) continue;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice('cmdstat_'.length, colon);
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(',');
    const calls = fields.find((f) => f.startsWith('calls='));
    const n = calls === undefined ? NaN : Number(calls.slice('calls='.length));
    if (name && Number.isFinite(n)) out.set(name, n);
  }
  return out;
}

/** used_cpu_user + used_cpu_sys from INFO cpu, in microseconds (NaN when absent). */
export function parseCpuUs(info: string): number {
  let user = NaN;
  let sys = NaN;
  for (const raw of info.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('used_cpu_user:')) user = Number(line.slice('used_cpu_user:'.length));
    else if (line.startsWith('used_cpu_sys:')) sys = Number(line.slice('used_cpu_sys:'.length));
  }
  return (user + sys) * 1e6;
}

/** Commands the probe itself causes, never counted as the chat's. */
const OURS = new Set(['info', 'hello', 'client|setinfo', 'client|setname']);

export interface RedisReading {
  cpuUs: number;
  calls: Map<string, number>;
  /** A Redis Cluster: each master's own reading, in the order of the ports given. */
  masters?: Array<{ cpuUs: number; calls: Map<string, number> }>;
}

/** What happened between two readings: CPU µs and calls per command (the probe's left out). */
export function redisDelta(
  a: RedisReading,
  b: RedisReading,
): { cpuUs: number; calls: Map<string, number>; total: number } {
  const calls = new Map<string, number>();
  let total = 0;
  for (const [name, n] of b.calls) {
    if (OURS.has(name)) continue;
    const d = n - (a.calls.get(name) ?? 0);
    if (d <= 0) continue;
    calls.set(name, d);
    total += d;
  }
  return { cpuUs: b.cpuUs - a.cpuUs, calls, total };
}

function clientFor(port: number) {
  return createClient({
    url: `redis://127.0.0.1:${port}`,
    disableOfflineQueue: true,
    socket: { connectTimeout: 5000, reconnectStrategy: false },
  });
}

/** Several readings (a Redis Cluster's masters) as one: CPU and calls added up. */
export function sumReadings(
  list: Array<{ cpuUs: number; calls: Map<string, number> }>,
): RedisReading {
  const calls = new Map<string, number>();
  let cpuUs = 0;
  for (const r of list) {
    cpuUs += r.cpuUs;
    for (const [name, n] of r.calls) calls.set(name, (calls.get(name) ?? 0) + n);
  }
  return { cpuUs, calls, masters: list };
}

export class RedisStats {
  private constructor(private readonly clients: Array<ReturnType<typeof clientFor>>) {}

  /** One redis-server, or each master of a Redis Cluster (plain connections, no redirects). */
  static async connect(ports: number | number[]): Promise<RedisStats> {
    const clients = (Array.isArray(ports) ? ports : [ports]).map((port) => {
      const client = clientFor(port);
      client.on('error', () => {
        // A failed read fails the point that asked for it; nothing to do here.
      });
      return client;
    });
    const stats = new RedisStats(clients);
    try {
      await Promise.all(clients.map((c) => c.connect()));
    } catch (e) {
      await stats.close();
      throw e;
    }
    return stats;
  }

  /** One round trip per server, all at once: CPU and command counters as of one moment. */
  async read(): Promise<RedisReading> {
    // Several sections in one INFO: Redis 7.0 and later.
    const infos = await Promise.all(
      this.clients.map(async (c) => String(await c.sendCommand(['INFO', 'cpu', 'commandstats']))),
    );
    const each = infos.map((info) => ({ cpuUs: parseCpuUs(info), calls: parseCommandStats(info) }));
    if (each.length === 1) return each[0] as RedisReading;
    return sumReadings(each);
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close().catch(() => {})));
  }
}
