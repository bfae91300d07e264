/**
 * One node of a Redis cluster, assembled: the bus, the shared presence and the leases,
 * and the check that the nodes of one chat share one history. server.ts calls this for
 * `--bus redis://…` (or `rediss://`, or a Redis Cluster's `redis+cluster://…`); the
 * password can be in the URL or in PLUGBOARD_BUS.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { HubExtras, Hub } from '../core/hub.js';
import type { Logger } from '../core/ports.js';
import { Leases, defaultLeaseOptions } from './leases.js';
import { RedisBus } from './redis-bus.js';
import { PREFIX } from './redis-keys.js';
import { RedisPresence } from './redis-presence.js';

export interface RedisNodeOptions {
  url: string;
  log: Logger;
  defaultRoom: string;
  /** What `--store` says, and the data directory (for the shared-history check). */
  store: string;
  dataDir: string;
  leaseMs?: number;
  renewMs?: number;
}

export class StoreMismatchError extends Error {}

/**
 * The history every node of the chat writes to, as nodes compare it: one SQLite file is
 * one host's (several workers on that host share it), PostgreSQL is one database wherever
 * the nodes run, memory is each node's own (tests, throwaway chats).
 */
export function storeIdentity(store: string, dataDir: string): string | null {
  if (store === 'memory') return null;
  if (store === 'sqlite') return `sqlite:${hostname()}:${resolve(dataDir)}`;
  try {
    const u = new URL(store);
    return `postgres:${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return `store:${store}`;
  }
}

export interface RedisNode {
  bus: RedisBus;
  /** Given to the Hub: the shared presence (which also makes the leases). */
  extras: HubExtras;
  /** Starts the leases (once the hub has started). */
  start(): Promise<void>;
}

export async function redisNode(o: RedisNodeOptions): Promise<RedisNode> {
  const bus = await RedisBus.connect({
    url: o.url,
    log: o.log,
    defaultRoom: o.defaultRoom,
    ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
  });
  const identity = storeIdentity(o.store, o.dataDir);
  if (identity !== null) {
    const key = `${PREFIX}:store`;
    const ttl = String((o.leaseMs ?? defaultLeaseOptions.leaseMs) * 6);
    await bus.link.command(['SET', key, identity, 'NX', 'PX', ttl]);
    const held = String(await bus.link.command(['GET', key]));
    if (held !== identity) {
      await bus.link.close();
      throw new StoreMismatchError(
        held.startsWith('sqlite:') || identity.startsWith('sqlite:')
          ? `This chat's other nodes keep history in ${held}; this node would keep its own (${identity}). ` +
              'Nodes on several hosts must share one history: use --store postgres://… on every node.'
          : `This chat's other nodes keep history in ${held}, this node in ${identity}: every node needs the same --store.`,
      );
    }
  }
  let leases: Leases | null = null;
  return {
    bus,
    start: async () => {
      await leases?.start();
    },
    extras: {
      presence: (hub: Hub) => {
        const presence = new RedisPresence(bus.link, bus.nodeId, hub.sessions, o.log);
        leases = new Leases(
          bus.link,
          bus.nodeId,
          {
            emit: (event, route) => hub.emit(event, route),
            counts: () => presence.countsFields(),
            evicted: () => {
              // Cleaned up as dead: our rooms set went with it.
              bus.forgetNotedRooms();
              for (const s of [...hub.sessions]) {
                s.closeReason = 'lost contact with the cluster: please reconnect';
                hub.disconnect(s, s.closeReason);
              }
            },
            restore: async () => {
              bus.forgetNotedRooms();
              // Names and users first (a name taken meanwhile costs its session), then
              // every room this node holds.
              for (const s of [...hub.sessions]) {
                if (!s.registered) continue;
                const claim = await presence.claim(s.name, s.id, 'register');
                if (!claim.ok) {
                  s.closeReason = 'your name was taken while the chat recovered';
                  hub.disconnect(s, s.closeReason);
                  continue;
                }
                presence.online(s.id);
              }
              for (const room of hub.rooms.list()) {
                await bus.restoreRoom(room);
                presence.listRoom(room.key, room.name);
              }
            },
          },
          o.log,
          {
            leaseMs: o.leaseMs ?? defaultLeaseOptions.leaseMs,
            renewMs: o.renewMs ?? defaultLeaseOptions.renewMs,
            // A main loop silent for a minute (or six leases) is hung, not busy.
            thread: {
              url: o.url,
              hungMs: Math.max(60_000, 6 * (o.leaseMs ?? defaultLeaseOptions.leaseMs)),
            },
          },
        );
        // Back from an outage: see at once whether Redis kept its data.
        bus.link.onChange((up) => {
          if (up) leases?.poke();
        });
        return presence;
      },
      beforeBusClose: async () => {
        await leases?.stop();
      },
    },
  };
}
