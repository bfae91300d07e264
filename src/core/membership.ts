/**
 * Joining and leaving rooms. The checks run against this node's replica of the room; the
 * change itself happens when the emitted event is applied (rooms.ts), on every node that
 * holds the room, so the promise each operation returns settles once it has.
 */
import { canJoin } from './access.js';
import { routeOf, type Core } from './context.js';
import { ChatError, ErrorCode, RoomChangedError } from './errors.js';
import { checkRoom, fold } from './names.js';
import type { Room } from './room.js';
import type { Session } from './session.js';
import { SmallMap } from './small-map.js';
import { cleanText } from './text.js';
import { announce } from './watchlist.js';

/**
 * How many times a join is sent at most while the room keeps changing under this node's
 * replica (RoomChangedError): once is the rare race with a rename; a third is not expected.
 */
const JOIN_ATTEMPTS = 3;

export function requireRegistered(s: Session): void {
  if (!s.registered) throw new ChatError(ErrorCode.NotRegistered, 'Choose a name first');
}

export function requireRoom(core: Core, name: string): Room {
  const room = core.rooms.get(name);
  if (!room) throw new ChatError(ErrorCode.NoSuchRoom, `No such room: ${name}`, name);
  return room;
}

export function requireMember(core: Core, s: Session, name: string): Room {
  const room = requireRoom(core, name);
  if (!room.has(s)) {
    throw new ChatError(ErrorCode.NotInRoom, `You are not in ${room.name}`, room.name);
  }
  return room;
}

export class Membership {
  constructor(private readonly core: Core) {}

  /**
   * Joins a room, creating it if it does not exist (its first member becomes operator,
   * except in the default room). `arriving` marks the join into the default room that
   * completes registration: no room mode may stop someone from registering, so only a
   * ban keeps them out (and then they are registered in no room).
   */
  async join(
    s: Session,
    name: string,
    key?: string,
    arriving = false,
  ): Promise<{ room: Room; created: boolean }> {
    const { core } = this;
    requireRegistered(s);
    checkRoom(name, core.options.roomNameLength);
    const room = core.rooms.get(name);
    if (room?.has(s)) {
      throw new ChatError(ErrorCode.AlreadyInRoom, `You are already in ${room.name}`, room.name);
    }
    if (s.rooms.size >= core.options.maxRoomsPerUser) {
      throw new ChatError(
        ErrorCode.TooManyRooms,
        `You are in too many rooms (at most ${core.options.maxRoomsPerUser})`,
        name,
      );
    }
    if (room) canJoin(s, room, key, arriving, core.clock.now());
    const spelled = room?.name ?? name;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.joinOnce(s, spelled, key, arriving);
      } catch (err) {
        // The room changed under this node's replica after the checks (a rename moved
        // another room onto the name just after this node read it): the replica has been
        // read again, so the join is checked against the room as it is, and sent again.
        if (!(err instanceof RoomChangedError)) throw err;
        if (attempt >= JOIN_ATTEMPTS) {
          const made = core.rooms.get(spelled);
          if (made) core.rooms.dropIfEmpty(made);
          throw new ChatError(
            ErrorCode.BusUnavailable,
            `${spelled} is changing right now; try again shortly`,
            spelled,
          );
        }
      }
    }
  }

  private async joinOnce(
    s: Session,
    spelled: string,
    key: string | undefined,
    arriving: boolean,
  ): Promise<{ room: Room; created: boolean }> {
    const { core } = this;
    const restore = await core.rooms.prepare(spelled);
    let newest: string | null;
    try {
      // A replica that has seen no message yet (the first join since a start) learns the
      // newest stored one, so a resume knows where this joiner's live messages begin.
      newest = core.rooms.get(spelled)?.lastId ? null : await this.newestStored(spelled);
      // Checked against the replica as it is when the join goes out (one made from the
      // cluster's snapshot holds the room as it is): the bus sequences the join only in the
      // room this replica was read from (RoomChangedError otherwise).
      const held = core.rooms.get(spelled);
      if (held && held.size > 0) canJoin(s, held, key, arriving, core.clock.now());
      const bulk = (held?.size ?? 0) + 1 > core.options.rosterDigestThreshold;
      await core.emit(
        {
          type: 'joined',
          ts: core.clock.now(),
          origin: s.id,
          room: spelled,
          who: s.actor(),
          realname: s.realname,
          ...(bulk ? { bulk } : {}),
          ...(s.away !== null ? { away: s.away } : {}),
          ...(restore ? { restore } : {}),
        },
        { rooms: [fold(spelled)], nodes: [core.nodeId] },
      );
    } catch (err) {
      // Not sent: a replica made for this join has no one to hold it for (kept while the
      // join is sent again: it was read again for it).
      const made = core.rooms.get(spelled);
      if (made && !(err instanceof RoomChangedError)) core.rooms.dropIfEmpty(made);
      throw err;
    }
    const joined = core.rooms.get(spelled);
    if (!joined || !joined.has(s)) {
      throw new ChatError(ErrorCode.NotInRoom, `Could not join ${spelled}`, spelled);
    }
    if (newest !== null) {
      if (joined.lastId === null) joined.lastId = newest;
      const marks = (s.joinMarks ??= new SmallMap());
      if (!marks.has(joined.key)) marks.set(joined.key, newest);
    }
    return { room: joined, created: joined.founder === s.id };
  }

  /** The id of a room's newest stored message ('0': none), or null if the store cannot say. */
  private async newestStored(room: string): Promise<string | null> {
    try {
      const [last] = await this.core.store.history({ room, limit: 1 });
      return last?.id ?? '0';
    } catch {
      return null;
    }
  }

  async part(s: Session, name: string, reason = ''): Promise<void> {
    const { core } = this;
    const room = requireMember(core, s, name);
    await core.emit(
      {
        type: 'left',
        ts: core.clock.now(),
        origin: s.id,
        room: room.name,
        who: s.actor(),
        reason: cleanText(reason, core.options.topicLength),
        ...(room.size > core.options.rosterDigestThreshold ? { bulk: true } : {}),
      },
      { rooms: [room.key], nodes: [core.nodeId] },
    );
  }

  async setTopic(s: Session, name: string, topic: string): Promise<void> {
    const { core } = this;
    const room = requireMember(core, s, name);
    if (room.modes.topicLocked && !room.isOp(s) && !s.oper) {
      throw new ChatError(
        ErrorCode.NeedOp,
        `Only operators may set the topic of ${room.name}`,
        room.name,
      );
    }
    await core.emit(
      {
        type: 'topic',
        ts: core.clock.now(),
        origin: s.id,
        room: room.name,
        by: s.actor(),
        topic: cleanText(topic, core.options.topicLength),
      },
      { rooms: [room.key] },
    );
  }

  /** Marks `s` away (with a message) or back (null); everyone sharing a room is told. */
  async setAway(s: Session, message: string | null): Promise<void> {
    const { core } = this;
    const text = message === null ? null : cleanText(message, core.options.topicLength);
    await core.emit(
      {
        type: 'away',
        ts: core.clock.now(),
        origin: s.id,
        who: s.actor(),
        message: text === '' ? null : text,
        rooms: [...s.rooms].map((r) => r.name),
      },
      routeOf(core, s),
    );
    announce(core, s, 'away', { away: text === '' ? null : text });
  }

  /** Makes `name` the room plain text goes to. */
  switchTo(s: Session, name: string): Room {
    const room = requireMember(this.core, s, name);
    s.current = room;
    return room;
  }
}
