/**
 * The Lua scripts that make Redis the ordering point and the shared state of each room.
 * Each runs atomically, so what one script reads and writes no other event can come
 * between (Centrifugo's broker does the same per publication).
 *
 * Every script touches the keys of one hash slot only, all given in KEYS, so each runs on
 * a Redis Cluster as on one Redis: a room's keys (one `{r:…}` tag), a name, or one node's
 * keys. KEYS of the room scripts are a room's keys in redis-keys.ts `roomKeyList` order:
 *   1 meta, 2 log, 3 state, 4 members, 5 bans, 6 mutes, 7 invited, 8 messages.
 * SEQUENCE also takes the room's `moved` and `incoming` keys after them (redis-rename.ts),
 * in the room's slot: at ROOM_KEY_COUNT + 1 and + 2, so a key added to roomKeyList moves
 * them with it.
 */
import { ROOM_KEY_COUNT } from './redis-keys.js';

const MOVED = ROOM_KEY_COUNT + 1;
const INCOMING = ROOM_KEY_COUNT + 2;

/**
 * SEQUENCE: the room's next offset (within its epoch, made now if the room's data is
 * gone), the state changes the event makes (ops, from room-ops.ts), the envelope appended
 * to the bounded stream, and published to the room's channel as `offset:epoch:payload`.
 * ARGV: 1 channel (the room's tag: the script's own slot, as SPUBLISH from a script on a
 * cluster requires), 2 payload (the envelope without its position), 3 stream length, 4 a
 * fresh epoch, 5 ops (JSON), 6 the publishing command: PUBLISH on one Redis, SPUBLISH
 * (sharded pub/sub, Redis 7) on a cluster, 7 '1' for a message the store keeps (its offset
 * goes to the messages stream too, KEYS[8]).
 *
 * A join's room is in the joining node's rooms set already (redis-bus.ts `noteRoom`: added
 * before the join is sent here, as that set lives in the node's slot, not the room's).
 *
 * KEYS[ROOM_KEY_COUNT + 1] (optional): the room's `moved` key. While it names a new name (a
 * rename moved the room's keys away, redis-rename.ts), an event for the old name other
 * than a join is not sequenced here: the reply is {-1, new name}, and the bus sends it on
 * to the new name (a node that had not yet applied the rename). A join makes a new room of
 * the old name. ARGV 8: '1' for a join.
 *
 * KEYS[ROOM_KEY_COUNT + 2] (optional): the room's `incoming` key. While it is set, a
 * rename between two slots of a Redis Cluster is moving a room to this name: nothing is
 * sequenced here; the reply is {-5, old name} and the bus tries again once the room's keys
 * are here (redis-rename.ts `awaitArrival`).
 *
 * ARGV 9 (a join; optional, '' none): the epoch of the joining node's replica of the room,
 * which the join was checked against. A room in another epoch (or none: its data is gone)
 * is not the one the replica was read from, and the join is not sequenced: the reply is
 * {-6, the room's epoch or ''}, and the node reads the room again, checks the join
 * against it and sends it once more (redis-bus.ts `sequenceJoin`). So a join never lands
 * in a room its node's snapshot predates (a rename that moved another room onto the name
 * between the two: docs/cluster.md, renaming a room).
 *
 * A leave with a session (a part, or a quit the lease cleanup announces for a lost node's
 * user) whose name is held in the room by another session now is not sequenced: the reply
 * is {-7}. The person came back (on another node) before their old session was cleaned
 * up; the old session's quit would tell everyone they left, and take them out of every
 * node's replica, while they are there.
 */
export const SEQUENCE = `
local meta, log, state, members, bans, mutes, invited =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local incoming = KEYS[${INCOMING}] and redis.call('GET', KEYS[${INCOMING}])
if incoming then return {-5, incoming} end
local moved = KEYS[${MOVED}] and redis.call('GET', KEYS[${MOVED}])
if moved and ARGV[8] ~= '1' then return {-1, moved} end
local epoch = redis.call('HGET', meta, 'e')
if ARGV[9] and ARGV[9] ~= '' and epoch ~= ARGV[9] then return {-6, epoch or ''} end
if moved then redis.call('DEL', KEYS[${MOVED}]) end
local function member(key)
  local raw = redis.call('HGET', members, key)
  if raw then return cjson.decode(raw) end
  return nil
end

local ops = cjson.decode(ARGV[5])
-- A quit announced for a lost session whose name someone else holds in the room now (they
-- came back on another node before the lease ran out): nothing happens, so nothing is
-- sequenced or published (no "left" for a person who is here).
if #ops == 1 and ops[1][1] == 'leave' and ops[1][3] then
  local held = member(ops[1][2])
  if held and held.origin ~= nil and held.origin ~= ops[1][3] then return {-7} end
end
if not epoch then
  epoch = ARGV[4]
  redis.call('DEL', log, KEYS[8])
  redis.call('HSET', meta, 'e', epoch)
end
local p = redis.call('HINCRBY', meta, 's', 1)

for _, op in ipairs(ops) do
  local kind = op[1]
  if kind == 'join' then
    -- op: join, key, member JSON, is default room ('1'/'0'), account ('' for none)
    local m = cjson.decode(op[3])
    local owner = redis.call('HGET', state, 'owner')
    local roles = 0
    if owner and owner ~= '' then
      if op[5] ~= '' and string.lower(op[5]) == string.lower(owner) then roles = 1 end
    elseif redis.call('HLEN', members) == 0 and op[4] == '0' then
      roles = 1
    end
    m.roles = roles
    redis.call('HSET', members, op[2], cjson.encode(m))
    redis.call('SREM', invited, op[2])
  elseif kind == 'leave' then
    -- op: leave, key[, origin]: with an origin, only that session's membership goes (a
    -- quit announced for a lost session never removes someone who took the name since).
    local m = op[3] and member(op[2])
    if not op[3] or (m and (m.origin == nil or m.origin == op[3])) then
      redis.call('HDEL', members, op[2])
    end
  elseif kind == 'rename' then
    local m = member(op[2])
    if m then
      m.name = op[4]
      redis.call('HDEL', members, op[2])
      redis.call('HSET', members, op[3], cjson.encode(m))
    end
  elseif kind == 'role' then
    local m = member(op[2])
    if m then
      local bit_ = tonumber(op[3])
      if op[4] == '1' then m.roles = bit.bor(m.roles or 0, bit_)
      else m.roles = bit.band(m.roles or 0, bit.bnot(bit_)) end
      redis.call('HSET', members, op[2], cjson.encode(m))
    end
  elseif kind == 'field' then
    -- op: field, member key, field name, JSON value (away, account)
    local m = member(op[2])
    if m then
      m[op[3]] = cjson.decode(op[4])
      redis.call('HSET', members, op[2], cjson.encode(m))
    end
  elseif kind == 'set' then
    redis.call('HSET', state, op[2], op[3])
  elseif kind == 'init' then
    -- Restored from a node's store into a room Redis knew nothing about.
    if redis.call('HEXISTS', state, 'restored') == 0 then
      local fields = cjson.decode(op[2])
      for k, v in pairs(fields) do redis.call('HSET', state, k, v) end
      redis.call('HSET', state, 'restored', '1')
    end
  elseif kind == 'ban' then
    redis.call('HSET', bans, op[2], op[3])
  elseif kind == 'unban' then
    redis.call('HDEL', bans, op[2])
  elseif kind == 'mute' then
    redis.call('HSET', mutes, op[2], op[3])
  elseif kind == 'unmute' then
    redis.call('HDEL', mutes, op[2])
  elseif kind == 'invite' then
    redis.call('SADD', invited, op[2])
  end
end

redis.call('XADD', log, 'MAXLEN', '~', ARGV[3], p .. '-1', 'd', ARGV[2])
if ARGV[7] == '1' then
  -- pcall: an index entry refused (an id not above the last, after data was lost in part)
  -- must not cost the message its publication.
  redis.pcall('XADD', KEYS[8], 'MAXLEN', '~', ARGV[3], p .. '-1', 'm', '')
end
redis.call(ARGV[6], ARGV[1], p .. ':' .. epoch .. ':' .. ARGV[2])
return {p, epoch, redis.call('HLEN', members)}
`;

/**
 * SNAPSHOT: the room's state with the offset it is at, so a node that starts holding the
 * room applies exactly the events after it. Makes the epoch if the room has none yet.
 * ARGV: 1 a fresh epoch. KEYS[ROOM_KEY_COUNT + 2] (optional) the room's `incoming` key:
 * while a room is being moved to this name, {-5, old name} (the caller waits, as SEQUENCE's
 * do), so no epoch is made here that the moved room's would replace.
 */
export const SNAPSHOT = `
local meta, log, state, members, bans, mutes, invited =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local incoming = KEYS[${INCOMING}] and redis.call('GET', KEYS[${INCOMING}])
if incoming then return {-5, incoming} end
local epoch = redis.call('HGET', meta, 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', log, KEYS[8])
  redis.call('HSET', meta, 'e', epoch)
end
local s = tonumber(redis.call('HGET', meta, 's') or '0')
return {s, epoch, redis.call('HGETALL', state), redis.call('HGETALL', members),
  redis.call('HGETALL', bans), redis.call('HGETALL', mutes), redis.call('SMEMBERS', invited)}
`;

/**
 * RECOVER: the stored envelopes of a room between two offsets, if the epoch is still the
 * one asked for (else nothing: that history is gone). ARGV: 1 epoch, 2 from, 3 to.
 */
export const RECOVER = `
local epoch = redis.call('HGET', KEYS[1], 'e')
if epoch ~= ARGV[1] then return {} end
return redis.call('XRANGE', KEYS[2], ARGV[2] .. '-1', ARGV[3] .. '-1')
`;

/**
 * TAIL: the newest kept messages of a room before an offset, if the epoch is still the
 * one asked for (else {0, {}}): their offsets from the messages stream (KEYS[3]), each
 * envelope from the log; one the log no longer holds is gone. ARGV: 1 epoch, 2 the newest
 * offset to look at, 3 how many at most. Returns {next, entries}: `next` the offset to go
 * on before, 0 when nothing older is kept.
 */
export const TAIL = `
local epoch = redis.call('HGET', KEYS[1], 'e')
if epoch ~= ARGV[1] then return {0, {}} end
local want = tonumber(ARGV[3])
local ids = redis.call('XREVRANGE', KEYS[3], ARGV[2] .. '-1', '-', 'COUNT', want)
local out = {}
for _, entry in ipairs(ids) do
  local got = redis.call('XRANGE', KEYS[2], entry[1], entry[1])
  if got[1] then out[#out + 1] = got[1] end
end
local next = 0
if #ids == want then next = tonumber(string.match(ids[#ids][1], '^(%d+)')) end
return {next, out}
`;

/**
 * CLAIM: a name for a session. ARGV: 1 origin, 2 mode (tentative | register | force),
 * 3 the held-for session a claim proves ('' none), 4 the address it proves ('' none).
 * The value is `<origin> <0|1>` (1: held by a registered session), or `~<origin>
 * <address>` (with an expiry) while it is held for someone who left (HOLD): only a proof
 * of that session or address, or 'force', takes it then. Returns {1, displaced-or-''} when
 * `origin` holds it afterwards, {0, ''} otherwise.
 */
export const CLAIM = `
local held = redis.call('GET', KEYS[1])
local registered = ARGV[2] ~= 'tentative'
local function set(reg) redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. (reg and '1' or '0')) end
if not held then set(registered) return {1, ''} end
if string.sub(held, 1, 1) == '~' then
  local who, address = string.match(held, '^~(%S+) (.*)$')
  if ARGV[2] == 'force' or (ARGV[3] ~= '' and ARGV[3] == who)
      or (ARGV[4] ~= '' and ARGV[4] == address) then
    set(registered)
    return {1, ''}
  end
  return {0, ''}
end
local origin, reg = string.match(held, '^(%S+) (%d)$')
if origin == ARGV[1] then set(registered or reg == '1') return {1, ''} end
if ARGV[2] == 'force' or (ARGV[2] == 'register' and reg == '0') then
  set(registered)
  return {1, origin}
end
return {0, ''}
`;

/**
 * HOLD: `origin` left without quitting; if it holds the name, the name is kept for it
 * (`~<origin> <address>`) for a while. ARGV: 1 origin, 2 address, 3 milliseconds.
 */
export const HOLD = `
local held = redis.call('GET', KEYS[1])
if held and string.match(held, '^(%S+) ') == ARGV[1] then
  redis.call('SET', KEYS[1], '~' .. ARGV[1] .. ' ' .. ARGV[2], 'PX', ARGV[3])
end
return 1
`;

/** RELEASE: drops a name if `origin` holds it. ARGV: 1 origin. */
export const RELEASE = `
local held = redis.call('GET', KEYS[1])
if held and string.match(held, '^(%S+) ') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

/**
 * RESTORE: a node puts back what it holds of a room after Redis lost its data (a restart
 * without persistence): its own members (other nodes add theirs), and the room's settings,
 * bans and mutes unless another node already put them back. ARGV: 1 members
 * [[key, json]], 2 fields {name: value}, 3 bans [[key, json]], 4 mutes [[key, until]].
 * The room goes back into the node's rooms set first (redis-bus.ts `restoreRoom`).
 */
export const RESTORE = `
local state, members, bans, mutes = KEYS[3], KEYS[4], KEYS[5], KEYS[6]
for _, m in ipairs(cjson.decode(ARGV[1])) do redis.call('HSET', members, m[1], m[2]) end
if redis.call('EXISTS', state) == 0 then
  for k, v in pairs(cjson.decode(ARGV[2])) do redis.call('HSET', state, k, v) end
end
for _, b in ipairs(cjson.decode(ARGV[3])) do redis.call('HSETNX', bans, b[1], b[2]) end
for _, m in ipairs(cjson.decode(ARGV[4])) do redis.call('HSETNX', mutes, m[1], m[2]) end
return 1
`;

/**
 * GHOSTS: a dead node's members of one room, found by their session ids' node prefix
 * (`<node>.`), however they got there: the lease cleanup runs it for every room of the
 * node's rooms set and announces their quits (which remove them), even when the node died
 * before it wrote their user records. KEYS: 1 the room's state, 2 its members.
 * ARGV: 1 the node's session prefix. Returns the room's name ('' if unknown), then the
 * JSON of each such member.
 */
export const GHOSTS = `
local out = {redis.call('HGET', KEYS[1], 'name') or ''}
local prefix = ARGV[1]
for _, raw in ipairs(redis.call('HVALS', KEYS[2])) do
  local ok, m = pcall(cjson.decode, raw)
  if ok and type(m) == 'table' and type(m.origin) == 'string'
      and string.sub(m.origin, 1, #prefix) == prefix then
    out[#out + 1] = raw
  end
end
return out
`;
