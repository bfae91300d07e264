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
  /**
   * Stream of the offsets of the room's kept messages (ids `<offset>-1`, no payload: the
   * envelope is in `log`), so a replay finds the newest messages before a join without
   * reading past every join and part (TAIL).
   */
  messages: string;
  /**
   * String: the room's new name, for a while after a rename moved its keys away
   * (redis-rename.ts): SEQUENCE sends a late event for the old name on to the new one.
   */
  moved: string;
  /**
   * String: the old name of a room being moved here, while a rename between two slots of
   * a Redis Cluster is between its steps (redis-rename.ts): events and snapshots of this
   * name wait until the room's keys are here.
   */
  incoming: string;
  /**
   * The room's keys (roomKeyList order) as they were when a rename between two slots
   * took them away from this name, until they are copied to the new name's slot.
   */
  outgoing: string[];
  /** The pub/sub channel. */
  channel: string;
}

/** The keys a room's state is made of, as roomKeyList gives them (their key suffixes). */
const ROOM_KEY_NAMES = ['meta', 'log', 'state', 'members', 'bans', 'mutes', 'invited', 'msgs'];

/**
 * How many keys roomKeyList gives: the scripts that take a room's keys and then more
 * (SEQUENCE, MOVE, the cluster rename's steps) find the extra keys after this many, so
 * adding a key to a room cannot silently shift them.
 */
export const ROOM_KEY_COUNT = ROOM_KEY_NAMES.length;

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
    messages: `${tag}:msgs`,
    moved: `${tag}:moved`,
    incoming: `${tag}:incoming`,
    outgoing: ROOM_KEY_NAMES.map((k) => `${tag}:out:${k}`),
    channel: tag,
  };
}

/**
 * In a fixed order: the scripts read KEYS[1..ROOM_KEY_COUNT] in this order (the keys a
 * rename moves; `moved` is not among them: it stays with the old name).
 */
export function roomKeyList(k: RoomKeys): string[] {
  const list = [k.meta, k.log, k.state, k.members, k.bans, k.mutes, k.invited, k.messages];
  if (list.length !== ROOM_KEY_COUNT) throw new Error('roomKeyList and ROOM_KEY_NAMES differ');
  return list;
}

/**
 * A node's own keys carry the node in a hash tag (`{n:…}`), so on a Redis Cluster they
 * share one slot: a node's stop and its cleanup delete them in one command, and the
 * node's channel (sharded pub/sub there) is served by the shard that holds them.
 */
const nodeTag = (node: string): string => `${PREFIX}:{n:${node}}`;

/** Channels that are not rooms: one per node, and one for everyone. */
export const nodeRedisChannel = (node: string): string => nodeTag(node);
export const allRedisChannel = `${PREFIX}:all`;

/** Presence. */
export const nameKey = (folded: string): string => `${PREFIX}:name:${folded}`;

/**
 * Who a name key's value says holds the name: `origin registered` (CLAIM) for a session,
 * `~origin address` (HOLD) for one that left and has it kept (`kept`). Null when none.
 */
export function nameHolder(value: string): { origin: string; kept: boolean } | null {
  const kept = value.startsWith('~');
  const origin = (kept ? value.slice(1) : value).split(' ')[0] ?? '';
  return origin === '' ? null : { origin, kept };
}
export const userKey = (origin: string): string => `${PREFIX}:user:${origin}`;
export const nodeUsersKey = (node: string): string => `${nodeTag(node)}:users`;
/**
 * Set of the rooms (folded) a node has had members in. A room is added before the node's
 * first join there is sequenced (and by a restore), never after: the lease cleanup finds
 * a dead node's members through it even when the node died before writing their user
 * records (redis-bus.ts `noteRoom`, leases.ts `ghosts`).
 */
export const nodeRoomsKey = (node: string): string => `${nodeTag(node)}:rooms`;
export const leaseKey = (node: string): string => `${nodeTag(node)}:lease`;
export const countsKey = (node: string): string => `${nodeTag(node)}:counts`;
export const cleanupKey = (node: string): string => `${nodeTag(node)}:cleanup`;
export const NODES = `${PREFIX}:nodes`;
/** Made once when Redis has no cluster data: a new value means Redis lost its data. */
export const CLUSTER = `${PREFIX}:cluster`;
/**
 * The marker's names, one of which each shard of a Redis Cluster holds (RedisLink
 * `perShard`): `pb:cluster`, then `pb:cluster:{1}`, `pb:cluster:{2}`, … (each tag its own
 * slot). A shard that lost its data has lost its marker; one Redis has `pb:cluster` only.
 */
export const clusterMarkerKey = (i: number): string => (i === 0 ? CLUSTER : `${CLUSTER}:{${i}}`);
export const ROOMS = `${PREFIX}:rooms`;
export const COUNTS = `${PREFIX}:counts`;
/** Node numbers (message ids): a leased slot per node. */
export const slotKey = (n: number): string => `${PREFIX}:slot:${n}`;
