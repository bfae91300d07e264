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
import { ROOM_KEY_COUNT, roomKeyList, roomKeys } from './redis-keys.js';

/** How long the old name sends late events on to the new one (ms). */
export const MOVED_MS = 10 * 60_000;

const N = ROOM_KEY_COUNT;

/**
 * What MOVE and MOVE_OUT (below) both check first, with the old name's keys as KEYS 1-N
 * (roomKeyList order: 1 meta, 2 log, 3 state, 4 members) and its `moved` as KEYS N+1: a
 * room renamed already returns {-2, new name}; an empty one, {-3, ''}.
 */
const REFUSE_MOVED_OR_EMPTY = `local moved = redis.call('GET', KEYS[${N + 1}])
if moved then return {-2, moved} end
if redis.call('HLEN', KEYS[4]) == 0 then return {-3, ''} end`;

/**
 * The rename as the room's next event, in MOVE and MOVE_OUT alike (their KEYS 1-3 and ARGV
 * 1-5): the room's epoch (a fresh one, its stale log dropped, for a room that had none),
 * its next offset `p`, the stream entry, the publish with the command in ARGV[publish];
 * then the room's name is the new spelling. Leaves `p` and `epoch` for the reply.
 */
const sequenceRename = (publish: number): string => `local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[4]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch)
end
local p = redis.call('HINCRBY', KEYS[1], 's', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], p .. '-1', 'd', ARGV[2])
redis.call(ARGV[${publish}], ARGV[1], p .. ':' .. epoch .. ':' .. ARGV[2])
redis.call('HSET', KEYS[3], 'name', ARGV[5])`;

/**
 * MOVE: the rename's own SEQUENCE, and the move of the room's keys.
 * KEYS: 1-N the old name's keys (roomKeyList order, N = ROOM_KEY_COUNT), N+1 its `moved`
 * key, N+2 - 2N+1 the new name's keys, 2N+2 the new name's `moved` key.
 * ARGV: 1 the old channel, 2 payload, 3 stream length, 4 a fresh epoch, 5 the new name as
 * spelled, 6 how long `moved` lasts (ms), 7 '1' when only the case changes (same keys),
 * 8 the publishing command (PUBLISH; SPUBLISH on a cluster, where only a change of case,
 * which stays in one slot, runs this).
 * Returns {offset, epoch}, or {-2, name}: renamed already (to `name`); {-3, ''}: nobody is
 * in the room; {-4, ''}: the new name has members.
 */
export const MOVE = `
${REFUSE_MOVED_OR_EMPTY}
local caseOnly = ARGV[7] == '1'
if not caseOnly and redis.call('HLEN', KEYS[${N + 1 + 4}]) > 0 then return {-4, ''} end
${sequenceRename(8)}
if not caseOnly then
  for i = 1, ${N} do
    if redis.call('EXISTS', KEYS[i]) == 1 then
      redis.call('RENAME', KEYS[i], KEYS[${N + 1} + i])
    else
      redis.call('DEL', KEYS[${N + 1} + i])
    end
  end
  redis.call('SET', KEYS[${N + 1}], ARGV[5], 'PX', ARGV[6])
  redis.call('DEL', KEYS[${2 * N + 2}])
end
return {p, epoch}
`;

/*
 * A rename between two slots of a Redis Cluster, in steps each atomic in its own slot:
 *
 * 1. RESERVE (new slot): refused if the new name has members or another room is on its
 *    way there; else the new name's `incoming` is set to the old name (RESERVE_MS). From
 *    now on every SEQUENCE and SNAPSHOT of the new name waits (reply -5): a JOIN of the new
 *    name from any node is held until the room has arrived, then joins the renamed room.
 * 2. MOVE_OUT (old slot): the rename is sequenced as the room's last event under the old
 *    name (and published there: every node holding the room switches at that offset), the
 *    room's keys are renamed to its `outgoing` keys (same slot) and `moved` names the new
 *    name, so late events go on to the new name and a JOIN of the old name makes a new,
 *    empty room there, as on one Redis.
 * 3. ARRIVE (new slot), after COPY_OUT read the outgoing keys: if `incoming` still names
 *    the old name, the keys are written under the new name (offset and epoch with them)
 *    and `incoming` goes; the outgoing keys are deleted after.
 *
 * Step 3 is `finishMove`, and anyone may run it: the renaming node right after step 2, or
 * any node whose event or snapshot of the new name waited AWAIT_FINISH_MS (the renaming
 * node died between steps 2 and 3). It is idempotent: of two runs, the second finds
 * `incoming` gone and changes nothing. A renaming node that dies between steps 1 and 2
 * leaves only the reservation, which expires: the room was never renamed.
 */

/** How long a reservation of the new name lasts (ms) unless the room arrives. */
export const RESERVE_MS = 30_000;
/** A wait on an incoming room longer than this runs the move's last step itself (ms). */
export const AWAIT_FINISH_MS = 1000;
/** An event of a name whose room has not arrived after this long is refused (ms). */
export const AWAIT_GIVE_UP_MS = 5000;
const POLL_MS = 20;

/**
 * Test only: `PLUGBOARD_TEST_RENAME_CRASH=after-reserve` or `after-move-out` in a node's
 * environment kills that node (SIGKILL: nothing after runs, no cleanup) right after step 1
 * or step 2 of its renames between two slots, so that the crash paths above are tested
 * with a node that really dies there (redis-rename-crash.test.ts). Off unless set; read
 * from the process's environment only, which no client can reach.
 */
const TEST_CRASH = process.env.PLUGBOARD_TEST_RENAME_CRASH;
function testCrash(after: 'after-reserve' | 'after-move-out'): void {
  if (TEST_CRASH === after) process.kill(process.pid, 'SIGKILL');
}

/** RESERVE: KEYS 1 the new name's members, 2 its `incoming`. ARGV 1 old name, 2 ms. */
export const RESERVE = `
if redis.call('HLEN', KEYS[1]) > 0 then return -4 end
local held = redis.call('GET', KEYS[2])
if held and held ~= ARGV[1] then return -4 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** UNRESERVE: KEYS 1 `incoming`; ARGV 1 the old name: dropped if it is still ours. */
export const UNRESERVE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

/**
 * MOVE_OUT: KEYS 1-N the old name's keys, N+1 its `moved`, N+2 - 2N+1 its outgoing keys.
 * ARGV as MOVE's 1-6, 7 the publishing command. Returns as MOVE (no -4).
 */
export const MOVE_OUT = `
${REFUSE_MOVED_OR_EMPTY}
${sequenceRename(7)}
for i = 1, ${N} do
  local out = KEYS[${N + 1} + i]
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('RENAME', KEYS[i], out)
    -- Not copied within this long (nobody finished the move): gone, like \`moved\`.
    redis.call('PEXPIRE', out, ARGV[6])
  else
    redis.call('DEL', out)
  end
end
redis.call('SET', KEYS[${N + 1}], ARGV[5], 'PX', ARGV[6])
return {p, epoch}
`;

/**
 * COPY_OUT: KEYS 1 the old name's \`moved\`, 2 - N+1 its outgoing keys. Returns {moved,
 * copy}: copy the JSON of each key ({t: type, d: contents}), '' when none is left (the
 * move was finished). Structured rather than DUMP: a DUMP is binary, and the link speaks
 * text (redis-client.ts); a room's keys are hashes, a set and streams of text.
 */
export const COPY_OUT = `
local moved = redis.call('GET', KEYS[1]) or ''
local copy, any = {}, false
for i = 2, ${N + 1} do
  local t = redis.call('TYPE', KEYS[i])['ok']
  local d = {}
  if t == 'hash' then d = redis.call('HGETALL', KEYS[i])
  elseif t == 'set' then d = redis.call('SMEMBERS', KEYS[i])
  elseif t == 'stream' then d = redis.call('XRANGE', KEYS[i], '-', '+') end
  if t ~= 'none' then any = true end
  copy[i - 1] = {t = t, d = d}
end
if not any then return {moved, ''} end
return {moved, cjson.encode(copy)}
`;

/**
 * ARRIVE: KEYS 1-N the new name's keys, N+1 its \`moved\`, N+2 its \`incoming\`. ARGV 1 the
 * old name, 2 COPY_OUT's copy. Returns 1 when the room arrived now, 0 when \`incoming\` no
 * longer names the old name (another run finished the move, or the reservation expired).
 */
export const ARRIVE = `
if redis.call('GET', KEYS[${N + 2}]) ~= ARGV[1] then return 0 end
local copy = cjson.decode(ARGV[2])
for i = 1, ${N} do
  redis.call('DEL', KEYS[i])
  local k = copy[i]
  if type(k) == 'table' then
    if k.t == 'hash' then
      for j = 1, #k.d, 2 do redis.call('HSET', KEYS[i], k.d[j], k.d[j + 1]) end
    elseif k.t == 'set' then
      for _, v in ipairs(k.d) do redis.call('SADD', KEYS[i], v) end
    elseif k.t == 'stream' then
      for _, entry in ipairs(k.d) do
        redis.call('XADD', KEYS[i], entry[1], unpack(entry[2]))
      end
    end
  end
end
redis.call('DEL', KEYS[${N + 1}], KEYS[${N + 2}])
return 1
`;

/**
 * Sequences a rename and moves the room's keys. On one Redis (or a change of case, which
 * keeps the slot) one script, MOVE; between two slots of a Redis Cluster, the steps above.
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
    return moveAcrossSlots(link, envelope, e, epoch, streamLength);
  }
  const a = roomKeys(from);
  const b = roomKeys(to);
  const reply = (await link.script(
    MOVE,
    [...roomKeyList(a), a.moved, ...roomKeyList(b), b.moved],
    [
      ...renameArgv(a.channel, envelope, e, epoch, streamLength),
      from === to ? '1' : '0',
      link.sharded ? 'SPUBLISH' : 'PUBLISH',
    ],
  )) as RedisReply[];
  return positionOf(reply, e);
}

/**
 * ARGV 1-6 of MOVE and MOVE_OUT alike: the old channel, the payload, the stream length, a
 * fresh epoch (the rename's SEQUENCE), the new name as spelled, how long `moved` lasts.
 */
function renameArgv(
  channel: string,
  envelope: Envelope,
  e: RenameEvent,
  epoch: string,
  streamLength: number,
): string[] {
  return [
    channel,
    JSON.stringify(envelope),
    String(streamLength),
    epoch,
    e.newName,
    String(MOVED_MS),
  ];
}

function positionOf(reply: RedisReply[], e: RenameEvent): Position {
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

async function moveAcrossSlots(
  link: RedisLink,
  envelope: Envelope,
  e: RenameEvent,
  epoch: string,
  streamLength: number,
): Promise<Position> {
  const from = fold(e.room);
  const to = fold(e.newName);
  const a = roomKeys(from);
  const b = roomKeys(to);
  const reservedAt = Date.now();
  const reserved = Number(
    await link.script(RESERVE, [b.members, b.incoming], [from, String(RESERVE_MS)]),
  );
  if (reserved === -4) {
    throw new ChatError(ErrorCode.RoomNameInUse, `${e.newName} is already taken`, e.newName);
  }
  testCrash('after-reserve');
  const release = () => link.script(UNRESERVE, [b.incoming], [from]).catch(() => {});
  // A reservation about to expire could let a JOIN make a room of the new name before the
  // renamed one arrives: this late, the rename is not done at all.
  if (Date.now() - reservedAt > RESERVE_MS / 2) {
    await release();
    throw new ChatError(
      ErrorCode.CannotRename,
      `${e.room} could not be renamed; try again`,
      e.room,
    );
  }
  const reply = (await link.script(
    MOVE_OUT,
    [...roomKeyList(a), a.moved, ...a.outgoing],
    [...renameArgv(a.channel, envelope, e, epoch, streamLength), 'SPUBLISH'],
  )) as RedisReply[];
  // (A MOVE_OUT that failed may still have been carried out: a node waiting on the new
  // name finishes the move then; else the reservation expires.)
  if (Number(reply[0]) < 0) await release();
  const at = positionOf(reply, e);
  testCrash('after-move-out');
  // The rename is done (sequenced and published); if this step fails, the nodes waiting
  // on the new name finish it (awaitArrival).
  await finishMove(link, from, to).catch(() => false);
  return at;
}

/**
 * Step 3 of a rename between two slots: the room's keys, renamed away from `from`, are
 * written under `to` if `to` still awaits them. True when this call moved them.
 */
export async function finishMove(link: RedisLink, from: string, to: string): Promise<boolean> {
  const a = roomKeys(from);
  const b = roomKeys(to);
  const out = (await link.script(COPY_OUT, [a.moved, ...a.outgoing], [])) as RedisReply[];
  const copy = text(out[1]);
  if (copy === '' || fold(text(out[0])) !== to) return false;
  const arrived = Number(
    await link.script(ARRIVE, [...roomKeyList(b), b.moved, b.incoming], [from, copy]),
  );
  if (arrived === 1) await link.command(['DEL', ...a.outgoing]);
  return arrived === 1;
}

/**
 * Waits while a room is on its way to `to` (its `incoming` is set), running the move's last
 * step itself after AWAIT_FINISH_MS (the renaming node may have died between steps).
 * Throws after AWAIT_GIVE_UP_MS: the event waiting on it is refused (the sender may retry).
 */
export async function awaitArrival(link: RedisLink, to: string): Promise<void> {
  const incoming = roomKeys(to).incoming;
  const start = Date.now();
  let finishing = false;
  for (;;) {
    const from = text(await link.command(['GET', incoming]));
    if (from === '') return;
    const waited = Date.now() - start;
    if (waited > AWAIT_GIVE_UP_MS) {
      throw new ChatError(
        ErrorCode.BusUnavailable,
        `${to} is being renamed into; try again in a moment`,
        to,
      );
    }
    if (waited >= AWAIT_FINISH_MS && !finishing) {
      finishing = true;
      await finishMove(link, from, to).catch(() => false);
      continue;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
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
