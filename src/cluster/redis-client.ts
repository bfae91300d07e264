/**
 * The little of Redis the cluster needs, behind an interface of ours: commands (and Lua
 * scripts) on one connection, pub/sub on another, and word of the link going down and
 * coming back. Implemented with node-redis (`redis` on npm), the client Redis's vendor
 * recommends and maintains; docs/cluster.md says why it is this one and not ioredis.
 *
 * While Redis is away, commands fail at once (no offline queue): a message that cannot be
 * sequenced is refused to its sender, never held and delivered late or to some nodes only.
 */
import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import type { Logger } from '../core/ports.js';
import { isClusterBus } from './redis-url.js';

export type RedisReply = string | number | null | RedisReply[] | { [key: string]: RedisReply };

/** A reply as text ('' for nil). */
export function text(r: RedisReply | undefined): string {
  return r === null || r === undefined ? '' : String(r);
}

/**
 * A hash reply as pairs. HGETALL answers a map over RESP3 (an object here) but a flat
 * [k, v, k, v] array from inside a Lua script: both are read.
 */
export function pairsOf(r: RedisReply | undefined): [string, string][] {
  if (Array.isArray(r)) {
    const out: [string, string][] = [];
    for (let i = 0; i + 1 < r.length; i += 2) out.push([text(r[i]), text(r[i + 1])]);
    return out;
  }
  if (r !== null && typeof r === 'object') return Object.entries(r).map(([k, v]) => [k, text(v)]);
  return [];
}

/** A list or set reply as strings. */
export function listOf(r: RedisReply | undefined): string[] {
  return Array.isArray(r) ? r.map(text) : [];
}

export interface RedisLink {
  /**
   * Pub/sub is sharded (SPUBLISH/SSUBSCRIBE, Redis 7): on a Redis Cluster, where a
   * channel is served by the shard owning its slot. On one Redis, classic pub/sub.
   */
  readonly sharded: boolean;
  /**
   * One command on the command connection. On a cluster it goes to the shard of its first
   * key (`args[1]`); a command without keys (PING) to any, or as node-redis's policy says.
   */
  command(args: readonly string[]): Promise<RedisReply>;
  /** Runs a Lua script (EVALSHA, loading it first when Redis does not know it). */
  script(source: string, keys: readonly string[], args: readonly string[]): Promise<RedisReply>;
  /** PUBLISH (SPUBLISH when `sharded`). */
  publish(channel: string, payload: string): Promise<void>;
  subscribe(channel: string, onMessage: (payload: string) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /**
   * The shard serving a channel or key: its master's address on a cluster (from the slot
   * map as the client knows it now), '' on one Redis. Changes when its slot moves.
   */
  shardOf(channelOrKey: string): string;
  /**
   * One name per shard: for each master, the first of `name(0)`, `name(1)`, … whose slot
   * it serves (on one Redis, `name(0)`). How a key is put on every shard (redis-bus.ts
   * probes, leases.ts markers).
   */
  perShard(name: (i: number) => string): string[];
  /** True while both connections are up. */
  readonly up: boolean;
  /** Told when the link goes down (with why) and comes back. */
  onChange(listener: (up: boolean, reason: string) => void): void;
  close(): Promise<void>;
}

/** A command without an answer for this long (up to a second more) fails. */
export const COMMAND_TIMEOUT_MS = 5000;

/**
 * Commands in flight, oldest first, each failed once it waited COMMAND_TIMEOUT_MS: one
 * sweep a second for all of them. node-redis 6 gives every command a timeout of its own
 * (an `AbortSignal.timeout`: a timer, a weak reference and a listener per command), which
 * measured about a fifth of a node's CPU per registration on the Redis bus; this bounds
 * the wait the same way for a fraction of the cost. A command that times out here may
 * still be carried out by Redis, as with node-redis's own timeout once it was written.
 */
export class Deadlines {
  private readonly inFlight = new Set<{ at: number; reject: (err: Error) => void }>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly ms: number) {
    this.timer = setInterval(() => this.sweep(), 1000);
    this.timer.unref();
  }

  bound<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = { at: performance.now(), reject };
      this.inFlight.add(entry);
      work().then(
        (value) => {
          this.inFlight.delete(entry);
          resolve(value);
        },
        (err: unknown) => {
          this.inFlight.delete(entry);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private sweep(): void {
    const now = performance.now();
    // A Set iterates in insertion order: the first one still young ends the sweep.
    for (const entry of this.inFlight) {
      if (now - entry.at < this.ms) break;
      this.inFlight.delete(entry);
      entry.reject(new Error(`redis: no answer within ${this.ms} ms`));
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}

export interface RedisOptions {
  /** `redis://`, `rediss://`, or a cluster's `redis+cluster://` (redis-url.ts). */
  url: string;
  log: Logger;
  /** First reconnect wait; doubles to `maxBackoffMs`, with jitter. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Scripts loaded (SCRIPT LOAD) each time the command connection is ready, before it
   * counts as up: their first calls then never meet NOSCRIPT, whose EVAL, sent after a
   * later EVALSHA of the same sender, would run after it (one Redis: on a Redis Cluster
   * each shard keeps its own cache and a resend can happen anyway: sender-order.ts).
   */
  preload?: readonly string[];
}

type Client = ReturnType<typeof createClient>;

/** Reconnect for ever, backing off with jitter: the chat is degraded meanwhile, not over. */
export function reconnectStrategy(o: RedisOptions): (retries: number) => number {
  const min = o.minBackoffMs ?? 100;
  const max = o.maxBackoffMs ?? 5000;
  return (retries: number) => {
    const wait = Math.min(max, min * 2 ** Math.min(retries, 16));
    return Math.floor(wait * (0.75 + Math.random() * 0.5));
  };
}

/**
 * EVALSHA, and EVAL when Redis answers NOSCRIPT (a restarted Redis, or on a cluster a
 * shard that has not run the script yet: each keeps its own script cache).
 */
export function scriptRunner(
  command: (args: readonly string[]) => Promise<RedisReply>,
): RedisLink['script'] {
  const shas = new Map<string, string>();
  return async (source, keys, args) => {
    let sha = shas.get(source);
    if (!sha) {
      sha = createHash('sha1').update(source).digest('hex');
      shas.set(source, sha);
    }
    const call = (verb: string, what: string) =>
      command([verb, what, String(keys.length), ...keys, ...args]);
    try {
      return await call('EVALSHA', sha);
    } catch (err) {
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
      return call('EVAL', source);
    }
  };
}

export async function connectRedis(o: RedisOptions): Promise<RedisLink> {
  if (isClusterBus(o.url)) {
    return (await import('./redis-cluster-client.js')).connectRedisCluster(o);
  }
  const options = {
    url: o.url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 5000, reconnectStrategy: reconnectStrategy(o) },
  };
  // The command connection's timeouts are ours (Deadlines); the pub/sub connection's
  // few commands keep node-redis's own.
  const cmd: Client = createClient({ ...options, commandOptions: { timeout: 0 } });
  const sub: Client = createClient(options);
  const deadlines = new Deadlines(COMMAND_TIMEOUT_MS);
  const listeners: ((up: boolean, reason: string) => void)[] = [];
  let cmdUp = false;
  let subUp = false;
  let lastUp = false;
  const changed = (reason: string): void => {
    const up = cmdUp && subUp;
    if (up === lastUp) return;
    lastUp = up;
    for (const l of listeners) l(up, reason);
  };
  let loaded: Promise<void> = Promise.resolve();
  // Bounded like any command (a Redis that does not answer is up to the usual deadline);
  // a failure only means the first calls fall back to EVAL.
  const preload = (): Promise<void> =>
    deadlines
      .bound(() =>
        Promise.all((o.preload ?? []).map((src) => cmd.sendCommand(['SCRIPT', 'LOAD', src]))),
      )
      .then(
        () => undefined,
        (err: unknown) => o.log.warn({ err }, 'redis: scripts not preloaded'),
      );
  const watch = (client: Client, set: (v: boolean) => void, which: string): void => {
    client.on('ready', () => {
      const ready = client === cmd ? (loaded = preload()) : Promise.resolve();
      void ready.then(() => {
        // Not if the connection was lost again meanwhile.
        if (!client.isReady) return;
        set(true);
        changed('connected');
      });
    });
    client.on('end', () => {
      set(false);
      changed(`${which} connection closed`);
    });
    client.on('reconnecting', () => {
      set(false);
      changed(`${which} connection lost; reconnecting`);
    });
    client.on('error', (err: Error) => {
      o.log.debug({ err, which }, 'redis error');
    });
  };
  watch(cmd, (v) => (cmdUp = v), 'command');
  watch(sub, (v) => (subUp = v), 'pub/sub');
  await Promise.all([cmd.connect(), sub.connect()]);
  await loaded;

  const command = (args: readonly string[]): Promise<RedisReply> =>
    deadlines.bound(() => cmd.sendCommand([...args]) as Promise<RedisReply>);

  return {
    sharded: false,
    command,
    script: scriptRunner(command),
    async publish(channel, payload) {
      await command(['PUBLISH', channel, payload]);
    },
    async subscribe(channel, onMessage) {
      await sub.subscribe(channel, (message: string) => onMessage(message));
    },
    async unsubscribe(channel) {
      await sub.unsubscribe(channel);
    },
    shardOf: () => '',
    perShard: (name) => [name(0)],
    get up() {
      return cmdUp && subUp;
    },
    onChange(listener) {
      listeners.push(listener);
    },
    async close() {
      // Our own close is not an outage: nobody is told Redis went away.
      listeners.length = 0;
      deadlines.close();
      await Promise.allSettled([cmd.close(), sub.close()]);
    },
  };
}
