/**
 * Identifiers that stay unique when several nodes serve one chat.
 *
 * - A node id: random, different every start (`n` + 8 base-36 characters). Session ids
 *   are `<node>.<n>`, so the `origin` an event carries (echo rules, "who sent this") can
 *   never name a session on another node.
 * - Message ids: decimal strings of `ms × 10^6 + seq × 10^3 + node number` (node number
 *   0–999, given by the bus: 0 for a single node, a leased slot in a cluster). They sort by
 *   time, never repeat on one node (a burst borrows the next sequence, keeping the node
 *   digits), and two nodes with different numbers can never make the same one. 19 digits:
 *   they need 64-bit integers (BigInt here, INTEGER in SQLite, bigint in PostgreSQL) and
 *   stay below 2^63 until the year 2262. Ids of earlier versions (`ms × 1000 + seq`) are
 *   smaller than any new one, so history keeps its order across the upgrade.
 */
import { randomBytes } from 'node:crypto';

const MS = 1_000_000n;
const SEQ = 1000n;

export function newNodeId(): string {
  const n = randomBytes(6).readUIntBE(0, 6).toString(36).padStart(9, '0').slice(-8);
  return `n${n}`;
}

export class MessageIds {
  private last = 0n;
  private readonly node: bigint;

  constructor(nodeNumber: number) {
    if (!Number.isInteger(nodeNumber) || nodeNumber < 0 || nodeNumber > 999) {
      throw new RangeError(`node number must be 0-999 (got ${nodeNumber})`);
    }
    this.node = BigInt(nodeNumber);
  }

  /** The next id at time `ts` (ms): larger than every id this source gave before. */
  next(ts: number): string {
    let id = BigInt(Math.floor(ts)) * MS + this.node;
    if (id <= this.last) id = this.last + SEQ;
    this.last = id;
    return id.toString();
  }
}

/** Session ids of one node: `<node>.<n>`. */
export class SessionIds {
  private n = 0;
  private readonly prefix: string;
  constructor(readonly nodeId: string) {
    this.prefix = `${nodeId}.`;
  }
  next(): string {
    // Joined, not concatenated: V8 keeps a `+` of two strings this long as a rope (the
    // node, the fresh `<node>.` copy and the counter: ~90 bytes, kept by every session and
    // every table keyed by its id); join() makes one flat string of ~32 bytes.
    return [this.prefix, (++this.n).toString(36)].join('');
  }
}

/** The node an origin (session id or node id) belongs to. */
export function nodeOf(origin: string): string {
  const dot = origin.indexOf('.');
  return dot < 0 ? origin : origin.slice(0, dot);
}
