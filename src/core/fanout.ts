/**
 * Delivers one event to this node's sessions that must see it, encoding it once per
 * wire-format variant and handing the same Buffer to every recipient that shares it.
 * Fan-out never waits for a socket: a connection past its send limit is evicted by its
 * own write (Connection.limitSendQueue), and the loop moves on.
 *
 * Big rooms' joins and departures (`bulk`) are also gathered here into the room's roster
 * digest, which the sweep delivers (a local presentation: each node gathers its own):
 * once a second, and less often the bigger the room (digestPeriodMs).
 */
import type { Counters } from './counters.js';
import type { ChatEvent, RosterEvent, StatusEvent } from './events.js';
import { fold } from './names.js';
import type { Room } from './room.js';
import type { Rooms } from './rooms.js';
import type { Session } from './session.js';
import type { Sessions } from './sessions.js';
import type { Watchlist } from './watchlist.js';

type Cache = Map<string, Buffer | null>;

/** A room's pending digest; `since` is when its first join or departure happened. */
interface Digest {
  room: string;
  since: number;
  joined: string[];
  left: string[];
}

/** Digest lines a room may cost per second, summed over its members (see digestPeriodMs). */
const DIGEST_LINES_PER_S = 500;
const DIGEST_MIN_MS = 1000;
const DIGEST_MAX_MS = 60_000;

/**
 * How long a big room's comings and goings gather before its digest goes out: a second
 * per 500 members, from 1 s up to a minute. A digest is one line to every member, so a
 * fixed second made a room's digests cost as many writes a second as it has members:
 * while 100,000 people joined one room that was the most of what the workers did (the
 * scale benchmark's profile). Scaled like this a room's digests stay near 500 lines a
 * second up to 30,000 members; past that a minute's digest says no less.
 */
export function digestPeriodMs(members: number): number {
  const ms = (members * 1000) / DIGEST_LINES_PER_S;
  return Math.min(DIGEST_MAX_MS, Math.max(DIGEST_MIN_MS, ms));
}

export class Fanout {
  private stamp = 0;
  /** Pending roster digests of big rooms, by folded room name. */
  private readonly digests = new Map<string, Digest>();

  constructor(
    private readonly sessions: Sessions,
    private readonly rooms: Rooms,
    private readonly counters: Counters,
    private readonly watchlist: Watchlist,
  ) {}

  /** One session, outside a fan-out (replies that are events, such as a shutdown). */
  deliverTo(s: Session, event: ChatEvent, cache: Cache = new Map()): void {
    if (s.closed) return;
    const variant = s.encoder.variant(event, s);
    if (variant === null) return;
    let data = cache.get(variant);
    if (data === undefined) {
      data = s.encoder.encode(event, s);
      cache.set(variant, data);
      this.counters.encodings++;
    }
    if (data === null) return;
    if (s.held !== null) s.keep(data);
    else s.conn.write(data);
    this.counters.deliveries++;
  }

  private deliverToRoom(
    room: Room | undefined,
    event: ChatEvent,
    cache: Cache,
    stamp: number,
  ): void {
    if (!room) return;
    // No member here shows others' bulk joins or departures: the walk would find no one.
    if (room.bulkAudience === 0 && isBulkRoster(event)) return;
    for (const s of room.local.keys()) {
      if (s.mark === stamp) continue;
      s.mark = stamp;
      this.deliverTo(s, event, cache);
    }
  }

  private self(origin: string, cache: Cache, event: ChatEvent, stamp: number): void {
    const s = this.sessions.get(origin);
    if (s && s.mark !== stamp) {
      s.mark = stamp;
      this.deliverTo(s, event, cache);
    }
  }

  /** Delivers an event to this node's sessions that must see it. */
  deliver(event: ChatEvent): void {
    const cache: Cache = new Map();
    const stamp = ++this.stamp;
    switch (event.type) {
      case 'message':
      case 'topic':
      case 'mode':
      case 'kick':
      case 'roster':
        this.deliverToRoom(this.rooms.get(event.room), event, cache, stamp);
        break;
      case 'rename':
        // Delivered after the apply (hub.ts): the room is found under its new name.
        this.deliverToRoom(this.rooms.get(event.newName), event, cache, stamp);
        break;
      case 'joined':
      case 'left':
        this.digest(event);
        this.deliverToRoom(this.rooms.get(event.room), event, cache, stamp);
        // A leaver is told even once out of the room (a part applied elsewhere first).
        if (event.type === 'left') this.self(event.origin, cache, event, stamp);
        break;
      case 'quit':
        this.digest(event);
        for (const r of event.rooms) this.deliverToRoom(this.rooms.get(r), event, cache, stamp);
        break;
      case 'away':
        for (const r of event.rooms) this.deliverToRoom(this.rooms.get(r), event, cache, stamp);
        break;
      case 'account':
      case 'realname':
      case 'host':
      case 'nick':
        this.self(event.origin, cache, event, stamp);
        for (const r of event.rooms) this.deliverToRoom(this.rooms.get(r), event, cache, stamp);
        break;
      case 'dm': {
        const target = this.sessions.named(event.to);
        if (target?.registered) this.deliverTo(target, event, cache);
        const sender = this.sessions.get(event.origin);
        if (sender && sender !== target) this.deliverTo(sender, event, cache);
        break;
      }
      case 'invite': {
        const target = this.sessions.named(event.name);
        if (target?.registered) {
          target.mark = stamp;
          this.deliverTo(target, event, cache);
        }
        // The room's members too (IRCv3 invite-notify): encoders show it only to those
        // who asked, and never to the inviter, who has its own reply.
        const inviter = this.sessions.get(event.origin);
        if (inviter) inviter.mark = stamp;
        this.deliverToRoom(this.rooms.get(event.room), event, cache, stamp);
        break;
      }
      case 'status':
        this.toWatchers(event, cache, stamp);
        break;
      case 'notice':
        if (event.room !== undefined) {
          this.deliverToRoom(this.rooms.get(event.room), event, cache, stamp);
        } else if (event.to !== undefined) {
          const target = this.sessions.named(event.to);
          if (target) this.deliverTo(target, event, cache);
        } else {
          for (const s of this.sessions) {
            if (!s.registered) continue;
            const wanted = event.wallops ? s.oper || s.wallops : !event.opersOnly || s.oper;
            if (wanted) this.deliverTo(s, event, cache);
          }
        }
        break;
      case 'shutdown':
        for (const s of this.sessions) this.deliverTo(s, event, cache);
        break;
      case 'marker':
        if (event.account === null) {
          this.self(event.origin, cache, event, stamp);
        } else {
          // Markers change when someone reads, not with every message: a walk is cheap
          // enough, and keeps an index of sessions by account out of the hot path.
          const account = fold(event.account);
          for (const s of this.sessions) {
            if (s.registered && s.account !== null && fold(s.account) === account) {
              this.deliverTo(s, event, cache);
            }
          }
        }
        break;
    }
  }

  /**
   * A status event to this node's watchers of the name (both names for a rename; none
   * when only the letter case changed, which is no news to a watcher). Of an away,
   * account, realname or host change, those sharing a room with the person here, and the
   * person themself, heard through the room event already.
   */
  private toWatchers(event: StatusEvent, cache: Cache, stamp: number): void {
    const heard =
      event.change === 'away' ||
      event.change === 'account' ||
      event.change === 'realname' ||
      event.change === 'host';
    const to = (name: string): void => {
      const watchers = this.watchlist.watchers(name);
      if (!watchers) return;
      for (const s of watchers) {
        if (s.mark === stamp || !s.registered) continue;
        s.mark = stamp;
        if (heard && (s.id === event.origin || this.sharesRoom(s, event.rooms))) continue;
        this.deliverTo(s, event, cache);
      }
    };
    if (event.change === 'nick') {
      if (event.newName === undefined || fold(event.newName) === fold(event.who.name)) return;
      to(event.who.name);
      to(event.newName);
    } else to(event.who.name);
  }

  private sharesRoom(s: Session, rooms: readonly string[]): boolean {
    for (const name of rooms) if (this.rooms.get(name)?.local.has(s)) return true;
    return false;
  }

  /** Notes a big room's join or departure for its digest. */
  private digest(event: ChatEvent): void {
    if (event.type === 'quit') {
      if (!event.bulk) return;
      for (const r of event.rooms) this.digestOf(r, event.ts).left.push(event.who.name);
    } else if ((event.type === 'joined' || event.type === 'left') && event.bulk) {
      const d = this.digestOf(event.room, event.ts);
      (event.type === 'joined' ? d.joined : d.left).push(event.who.name);
    }
  }

  private digestOf(room: string, ts: number): Digest {
    let d = this.digests.get(fold(room));
    if (!d) {
      d = { room, since: ts, joined: [], left: [] };
      this.digests.set(fold(room), d);
    }
    return d;
  }

  /** Delivers the gathered digests that are due (called by the sweep, once a second). */
  flushDigests(ts: number): void {
    if (this.digests.size === 0) return;
    const due: Digest[] = [];
    for (const [key, d] of this.digests) {
      const members = this.rooms.get(d.room)?.size ?? 0;
      // Half a sweep early rather than a whole sweep late: at the minimum period every
      // sweep delivers what it found, as before.
      if (ts - d.since < digestPeriodMs(members) - DIGEST_MIN_MS / 2) continue;
      this.digests.delete(key);
      due.push(d);
    }
    for (const d of due) {
      const event: RosterEvent = {
        type: 'roster',
        ts,
        room: d.room,
        joined: d.joined,
        left: d.left,
      };
      this.deliver(event);
    }
  }
}

/** Others' joins, parts and quits in a big room, which digest-showing encoders skip. */
function isBulkRoster(event: ChatEvent): boolean {
  return (
    (event.type === 'joined' || event.type === 'left' || event.type === 'quit') &&
    event.bulk === true
  );
}
