/**
 * A room rename in Redis (core/rename.ts; IRCv3 draft/channel-rename). The rename is a
 * sequenced event of the room under its old name: one script gives it the room's next
 * offset, appends it to the room's stream and publishes it on the old channel — so every
 * node holding the room switches at the same point of the room's order — and, in the same
 * atomic step, moves every key of the room to the new name (the offset and epoch with
 * them: the room's next event gets the next offset under the new name, so a client that
 * resumes by offset sees neither a gap nor a duplicate). The old name keeps a `moved` key
 * for a while: an event a node sends to the old name before it has applied the rename is
 * sent on to the new name (SEQUENCE, `forwardTo`).
 *
 * The script is also the arbiter between nodes: of two renames racing on two nodes, the
 * first to run wins; the second finds the room moved (CANNOT_RENAME) or the new name taken
 * (CHANNEL_NAME_IN_USE), whatever each node's own checks saw.
 */
import { ChatError, ErrorCode } from '../core/errors.js';
import type { ChatEvent, RenameEvent } from '../core/events.js';
import { fold } from '../core/names.js';
import { roomChannel, type Envelope, type Position } from './bus.js';
import { text, type RedisLink, type RedisReply } from './redis-client.js';
import { roomKeyList, roomKeys } from './redis-keys.js';

/** How long the old name sends late events on to the new one (ms). */
export const MOVED_MS = 10 * 60_000;

/**
 * MOVE: the rename's own SEQUENCE, and the move of the room's keys.
 * KEYS: 1-8 the old name's keys (roomKeyList order), 9 its `moved` key, 10-17 the new
 * name's keys, 18 the new name's `moved` key.
 * ARGV: 1 the old channel, 2 payload, 3 stream length, 4 a fresh epoch, 5 the new name as
 * spelled, 6 how long `moved` lasts (ms), 7 '1' when only the case changes (same keys),
 * 8 the publishing command (PUBLISH; SPUBLISH on a cluster, where only a change of case,
 * which stays in one slot, runs this).
 * Returns {offset, epoch}, or {-2, name}: renamed already (to `name`); {-3, ''}: nobody is
 * in the room; {-4, ''}: the new name has members.
 */
export const MOVE = `
local moved = redis.call('GET', KEYS[9])
if moved then return {-2, moved} end
if redis.call('HLEN', KEYS[4]) == 0 then return {-3, ''} end
local caseOnly = ARGV[7] == '1'
if not caseOnly and redis.call('HLEN', KEYS[13]) > 0 then return {-4, ''} end
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[4]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch)
end
local p = redis.call('HINCRBY', KEYS[1], 's', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], p .. '-1', 'd', ARGV[2])
redis.call(ARGV[8], ARGV[1], p .. ':' .. epoch .. ':' .. ARGV[2])
redis.call('HSET', KEYS[3], 'name', ARGV[5])
if not caseOnly then
  for i = 1, 8 do
    if redis.call('EXISTS', KEYS[i]) == 1 then
      redis.call('RENAME', KEYS[i], KEYS[9 + i])
    else
      redis.call('DEL', KEYS[9 + i])
    end
  end
  redis.call('SET', KEYS[9], ARGV[5], 'PX', ARGV[6])
  redis.call('DEL', KEYS[18])
end
return {p, epoch}
`;

/**
 * Sequences a rename and moves the room's keys (MOVE), in one step.
 *
 * Cross-slot: every key of a room carries the room's name in its hash tag
 * (redis-keys.ts), so on one Redis this is one script, but on a Redis Cluster the old and
 * the new name's keys are in different slots and no script may touch both. There this
 * function must become two steps, each atomic in its own slot: in the old slot, sequence
 * the rename, mark the room `moved` (which from then on sends late events on) and DUMP its
 * keys; in the new slot, refuse if the name has members, else RESTORE them (offset and
 * epoch included) and only then accept events there. Events for the new name that come
 * between the steps must wait for the second (a node delivers the new name's events only
 * after the rename, in offset order, so none is lost). This is the one place to change.
 */
export async function moveRoom(
  link: RedisLink,
  envelope: Envelope,
  e: RenameEvent,
  epoch: string,
  streamLength = 1000,
): Promise<Position> {
  const from = fold(e.room);
  const to = fold(e.newName);
  if (link.sharded && from !== to) {
    // Two names, two slots: see above. Refused rather than half done.
    throw new ChatError(
      ErrorCode.CannotRename,
      'Rooms cannot be renamed on this cluster yet (Redis Cluster: the two names are on different shards)',
      e.room,
    );
  }
  const a = roomKeys(from);
  const b = roomKeys(to);
  const reply = (await link.script(
    MOVE,
    [...roomKeyList(a), a.moved, ...roomKeyList(b), b.moved],
    [
      a.channel,
      JSON.stringify(envelope),
      String(streamLength),
      epoch,
      e.newName,
      String(MOVED_MS),
      from === to ? '1' : '0',
      link.sharded ? 'SPUBLISH' : 'PUBLISH',
    ],
  )) as RedisReply[];
  const code = Number(reply[0]);
  if (code === -2) {
    throw new ChatError(
      ErrorCode.CannotRename,
      `${e.room} was renamed just now (to ${text(reply[1])})`,
      e.room,
    );
  }
  if (code === -3) throw new ChatError(ErrorCode.NoSuchRoom, `No such room: ${e.room}`, e.room);
  if (code === -4) {
    throw new ChatError(ErrorCode.RoomNameInUse, `${e.newName} is already taken`, e.newName);
  }
  return { p: code, x: text(reply[1]) };
}

/**
 * An envelope for the old name `from` (folded), sent on to the room's new name `to`: the
 * same event, naming the room by its new name, on the new name's channel.
 */
export function forwardTo(envelope: Envelope, from: string, to: string): Envelope {
  return { ...envelope, c: roomChannel(fold(to)), e: retarget(envelope.e, from, to) };
}

function retarget(e: ChatEvent, from: string, to: string): ChatEvent {
  const swap = (name: string): string => (fold(name) === from ? to : name);
  if ('rooms' in e && Array.isArray(e.rooms)) return { ...e, rooms: e.rooms.map(swap) };
  if ('room' in e && typeof e.room === 'string') return { ...e, room: swap(e.room) } as ChatEvent;
  return e;
}
