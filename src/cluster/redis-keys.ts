/**
 * Where the cluster keeps things in Redis. Every key of one room carries the room in a
 * hash tag (`{r:…}`), so a Redis Cluster puts them in one slot and one script can touch
 * them all atomically; the room's pub/sub channel has the same tag, so sharded pub/sub
 * (SPUBLISH/SSUBSCRIBE, Redis 7) can be used from that script on a cluster.
 */
export const PREFIX = 'pb';

export interface RoomKeys {
  /** Hash: `s` the last offset, `e` the epoch. */
  meta: string;
  /** Stream of the room's recent envelopes (the hot window), ids `<offset>-1`. */
  log: string;
  /** Hash: topic, topicBy, topicAt, flags (JSON), key, limit, owner, restored. */
  state: string;
  /** Hash: folded name → member JSON (name, mask, account, realname, away, roles, origin). */
  members: string;
  /** Hash: folded mask → ban JSON. */
  bans: string;
  /** Hash: folded name → until (ms, or '' for until lifted). */
  mutes: string;
  /** Set of folded names invited past +i. */
  invited: string;
  /** The pub/sub channel. */
  channel: string;
}

export function roomKeys(room: string): RoomKeys {
  const tag = `${PREFIX}:{r:${room}}`;
  return {
    meta: `${tag}:meta`,
    log: `${tag}:log`,
    state: `${tag}:state`,
    members: `${tag}:members`,
    bans: `${tag}:bans`,
    mutes: `${tag}:mutes`,
    invited: `${tag}:invited`,
    channel: tag,
  };
}

/** In a fixed order: the scripts read KEYS[1..7] in this order. */
export function roomKeyList(k: RoomKeys): string[] {
  return [k.meta, k.log, k.state, k.members, k.bans, k.mutes, k.invited];
}

/** Channels that are not rooms: one per node, and one for everyone. */
export const nodeRedisChannel = (node: string): string => `${PREFIX}:n:${node}`;
export const allRedisChannel = `${PREFIX}:all`;

/** Presence. */
export const nameKey = (folded: string): string => `${PREFIX}:name:${folded}`;
export const userKey = (origin: string): string => `${PREFIX}:user:${origin}`;
export const nodeUsersKey = (node: string): string => `${PREFIX}:node:${node}:users`;
/**
 * Set of the rooms (folded) a node has had members in, added by SEQUENCE in the same
 * atomic step as each join (and by RESTORE): the lease cleanup finds a dead node's members
 * through it even when the node died before writing their user records.
 */
export const nodeRoomsKey = (node: string): string => `${PREFIX}:node:${node}:rooms`;
export const leaseKey = (node: string): string => `${PREFIX}:lease:${node}`;
export const NODES = `${PREFIX}:nodes`;
/** Made once when Redis has no cluster data: a new value means Redis lost its data. */
export const CLUSTER = `${PREFIX}:cluster`;
export const ROOMS = `${PREFIX}:rooms`;
export const COUNTS = `${PREFIX}:counts`;
export const cleanupKey = (node: string): string => `${PREFIX}:cleanup:${node}`;
/** Node numbers (message ids): a leased slot per node. */
export const slotKey = (n: number): string => `${PREFIX}:slot:${n}`;
