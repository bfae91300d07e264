/**
 * The RedisLink of redis-client.ts on a Redis Cluster (`--bus redis+cluster://…`), with
 * node-redis's `createCluster`: it learns the slots from the nodes given, keeps a command
 * connection to each master and sends each command to the master of its first key's slot
 * (following MOVED and ASK when slots move), and a sharded pub/sub connection to each
 * master that serves a channel this node listens to.
 *
 * Pub/sub is sharded (SPUBLISH/SSUBSCRIBE, Redis 7) for every channel: a room's channel
 * has the room's hash tag, so the room's SEQUENCE script publishes it from the room's own
 * shard and only that shard carries it; a node's channel has the node's tag. Classic
 * PUBLISH on a cluster is broadcast by every shard to every other over the cluster bus,
 * whoever listens: one message would cost all the shards. The `all` channel is sharded
 * too: its traffic (sign-ons for MONITOR, WALLOPS) is light, and one shard delivering it
 * to each node costs less than every shard forwarding it.
 *
 * The link is up while every master's connections (commands, and the pub/sub ones open)
 * are ready: a shard away is an outage for the rooms it holds, and the bus says so rather
 * than deliver some rooms and not others.
 */
import { createCluster } from 'redis';
// The slot function node-redis routes by (a patched copy of cluster-key-slot, which is
// archived): the same one, so a name's shard here is the shard its commands go to.
import calculateSlotModule from '@redis/client/dist/lib/utils/calculate-slot.js';
import {
  COMMAND_TIMEOUT_MS,
  Deadlines,
  reconnectStrategy,
  scriptRunner,
  type RedisLink,
  type RedisOptions,
  type RedisReply,
} from './redis-client.js';
import { nodeUrl, parseClusterUrl } from './redis-url.js';

/** CommonJS's default export, as ESM sees it (the function itself, or under `default`). */
const calculateSlot: (key: string) => number =
  (calculateSlotModule as unknown as { default?: (key: string) => number }).default ??
  (calculateSlotModule as unknown as (key: string) => number);

/** How far `perShard` looks for a name on each master: far more than a few masters need. */
const PER_SHARD_TRIES = 4096;

/** Commands with no key: sent to any master (PING: to each, as node-redis's policy says). */
const KEYLESS = new Set(['PING']);

/** The key a command is routed by: its first (EVAL/EVALSHA: KEYS[1]). */
export function routingKey(args: readonly string[]): string | undefined {
  const verb = (args[0] ?? '').toUpperCase();
  if (KEYLESS.has(verb)) return undefined;
  if (verb === 'EVALSHA' || verb === 'EVAL') return Number(args[2]) > 0 ? args[3] : undefined;
  return args[1];
}

export async function connectRedisCluster(o: RedisOptions): Promise<RedisLink> {
  const url = parseClusterUrl(o.url);
  const socket = {
    connectTimeout: 5000,
    reconnectStrategy: reconnectStrategy(o),
    ...(url.tls ? { tls: true as const } : {}),
  };
  const cluster = createCluster({
    rootNodes: url.nodes.map((n) => ({ url: nodeUrl(url, n) })),
    // What every connection to every node (the discovered ones too) is made with.
    defaults: {
      ...(url.username !== undefined ? { username: url.username } : {}),
      ...(url.password !== undefined ? { password: url.password } : {}),
      disableOfflineQueue: true,
      socket,
    },
    // Deadlines bound each command's wait (redis-client.ts), not a timer per command.
    commandOptions: { timeout: 0 },
    useReplicas: false,
  });
  const deadlines = new Deadlines(COMMAND_TIMEOUT_MS);
  const listeners: ((up: boolean, reason: string) => void)[] = [];
  let lastUp = false;
  let closing = false;

  // A connection still making its first connect (a shard's pub/sub connection opens with
  // the first channel it serves) has lost nothing yet: it does not make the link down.
  type Conn = { client?: { isReady: boolean }; connectPromise?: unknown } | undefined;
  const ready = (c: Conn): boolean =>
    !c?.client || c.connectPromise !== undefined || c.client.isReady;
  const isUp = (): boolean =>
    cluster.isReady && cluster.masters.every((m) => ready(m) && ready(m.pubSub));
  const changed = (reason: string): void => {
    const up = isUp();
    if (up === lastUp || closing) return;
    lastUp = up;
    for (const l of listeners) l(up, reason);
  };
  type NodeInfo = { host: string; port: number };
  const where = (n: NodeInfo) => `${n.host}:${n.port}`;
  cluster.on('node-ready', (n: NodeInfo) => changed(`connected to ${where(n)}`));
  cluster.on('node-reconnecting', (n: NodeInfo) =>
    changed(`connection to ${where(n)} lost; reconnecting`),
  );
  cluster.on('node-disconnect', (n: NodeInfo) => changed(`connection to ${where(n)} closed`));
  cluster.on('disconnect', () => changed('cluster connection closed'));
  cluster.on('node-error', (err: Error, n: NodeInfo) =>
    o.log.debug({ err, node: where(n) }, 'redis error'),
  );
  cluster.on('error', (err: Error) => o.log.debug({ err }, 'redis cluster error'));
  cluster.on('sharded-channel-moved-error', (err: Error, channel: string) =>
    o.log.warn({ err, channel }, 'redis: a moved channel could not be subscribed again'),
  );
  await cluster.connect();
  changed('connected');

  const command = (args: readonly string[]): Promise<RedisReply> =>
    deadlines.bound(
      () => cluster.sendCommand(routingKey(args), false, [...args]) as Promise<RedisReply>,
    );

  return {
    sharded: true,
    command,
    script: scriptRunner(command),
    async publish(channel, payload) {
      await command(['SPUBLISH', channel, payload]);
    },
    async subscribe(channel, onMessage) {
      await cluster.sSubscribe(channel, (message: string) => onMessage(message));
      // A new shard's pub/sub connection counts for `up` from now on.
      changed('subscribed');
    },
    async unsubscribe(channel) {
      await cluster.sUnsubscribe(channel);
    },
    shardOf(channelOrKey) {
      return cluster.slots[calculateSlot(channelOrKey)]?.master.address ?? '';
    },
    perShard(name) {
      const wanted = new Set(cluster.masters.map((m) => m.address));
      const out: string[] = [];
      for (let i = 0; i < PER_SHARD_TRIES && wanted.size > 0; i++) {
        const n = name(i);
        const at = cluster.slots[calculateSlot(n)]?.master.address;
        if (at !== undefined && wanted.delete(at)) out.push(n);
      }
      return out;
    },
    get up() {
      return isUp();
    },
    onChange(listener) {
      listeners.push(listener);
    },
    async close() {
      closing = true;
      listeners.length = 0;
      deadlines.close();
      await Promise.allSettled([cluster.close()]);
    },
  };
}
