/**
 * The part of a replay the store may not have yet. In a cluster each node writes its own
 * senders' messages to the store in batches (every --store-batch-interval), so a message
 * another node sent just before a session joined can be in neither the store (its batch
 * is still waiting) nor the session's live stream (it was ordered before the join). The
 * room's stream in Redis has it: every room event, by offset. So a replay also reads the
 * stream backwards from the session's join and merges what it finds with the store's page,
 * by message id (docs/cluster.md, "Resume across nodes").
 */
import type { HistoryEntry, MessageEvent } from './events.js';
import type { Bus } from './ports.js';
import type { Session } from './session.js';

/** Round trips at most per replay (each looks at up to the whole stream). */
const MAX_ROUNDS = 8;
/**
 * How far before the join the stream is read: a message its node has not stored this long
 * after it was sent means that node's store stalls (docs/cluster.md, "Resume across
 * nodes"), and it refuses new messages once its write queue is full.
 */
export const TAIL_HORIZON_MS = 60_000;

/** A message the store keeps (messaging.ts `keep`): not a notice, not tags alone. */
export function isKept(event: MessageEvent): boolean {
  return event.kind !== 'notice' && event.tagOnly !== true;
}

/** The history entry the sender's node writes for a room message (messaging.ts). */
export function entryOf(event: MessageEvent): HistoryEntry {
  return {
    id: event.id,
    ts: event.ts,
    room: event.room,
    from: event.from.name,
    mask: event.from.mask,
    text: event.text,
    kind: event.kind,
  };
}

/** `a` and `b` (each oldest first) as one list, oldest first, each id once. */
export function mergeById(a: readonly HistoryEntry[], b: readonly HistoryEntry[]): HistoryEntry[] {
  const byId = new Map<string, HistoryEntry>();
  for (const e of a) byId.set(e.id, e);
  for (const e of b) if (!byId.has(e.id)) byId.set(e.id, e);
  return [...byId.values()].sort((x, y) => {
    const i = BigInt(x.id);
    const j = BigInt(y.id);
    return i < j ? -1 : i > j ? 1 : 0;
  });
}

/**
 * The kept messages of `room` (folded) that the cluster ordered before `s` joined it and
 * whose id is after `after`: the newest `want` of them, oldest first. Empty on a bus that
 * keeps no stream, or when the stream cannot be read (the replay is then the store's).
 *
 * Reading stops at `want` messages, at the start of what the stream keeps, at events older
 * than TAIL_HORIZON_MS before the join, or at the client's own position: a message from
 * the node that sent `after`, with an id not after it (one node's ids grow in the order
 * the stream has them, so everything older was before the position). Another node's
 * message with an id at or before `after` is skipped, not a stop: clocks of two nodes may
 * disagree by a little.
 */
export async function tailBeforeJoin(
  bus: Bus,
  s: Session,
  room: string,
  after: string,
  want: number,
): Promise<HistoryEntry[]> {
  const at = s.joinOffsets?.get(room);
  if (at === undefined || !bus.messagesBefore || want <= 0) return [];
  const position = BigInt(after);
  const positionNode = position % 1000n;
  const found: HistoryEntry[] = [];
  let before = at.offset;
  try {
    for (let round = 0; round < MAX_ROUNDS && before > 1; round++) {
      const page = await bus.messagesBefore(room, at.epoch, before, want - found.length + 1);
      for (const { event } of page.messages) {
        if (event.ts < at.ts - TAIL_HORIZON_MS) return found.reverse();
        if (event.type !== 'message' || !isKept(event)) continue;
        const id = BigInt(event.id);
        if (id <= position) {
          if (position > 0n && id % 1000n === positionNode) return found.reverse();
          continue;
        }
        found.push(entryOf(event));
        if (found.length >= want) return found.reverse();
      }
      before = page.next;
    }
  } catch {
    // Redis is away: the store's part is still right, only its newest may be missing.
  }
  return found.reverse();
}
