/**
 * What a room keeps when nobody is in it, and across restarts: topic, modes, owner, bans
 * and mutes. Rooms themselves vanish with their last member (as IRC channels do); their
 * state waits here and is restored when someone creates the room again. Every change is
 * written through to the store.
 */
import { fold } from './names.js';
import type { BanRecord, RoomRecord, Store } from './ports.js';
import { ROOM_FLAGS, type BanEntry, type Room } from './room.js';

interface Dormant {
  record: RoomRecord | null;
  bans: BanEntry[];
  mutes: Map<string, number | null>;
}

export class RoomStates {
  private readonly dormant = new Map<string, Dormant>();

  constructor(private readonly store: Store) {}

  /** Loads every saved room, ban and mute; returns the server-wide bans. */
  async load(): Promise<BanEntry[]> {
    for (const record of await this.store.loadRooms()) {
      this.entry(record.name).record = record;
    }
    const serverBans: BanEntry[] = [];
    for (const b of await this.store.loadBans()) {
      const entry: BanEntry = {
        mask: b.mask,
        by: b.setBy,
        at: b.createdAt,
        reason: b.reason,
        expiresAt: b.expiresAt,
      };
      if (b.room === '*') serverBans.push(entry);
      else if (b.kind === 'ban') this.entry(b.room).bans.push(entry);
      else this.entry(b.room).mutes.set(fold(b.mask), b.expiresAt);
    }
    return serverBans;
  }

  private entry(name: string): Dormant {
    let d = this.dormant.get(fold(name));
    if (!d) {
      d = { record: null, bans: [], mutes: new Map() };
      this.dormant.set(fold(name), d);
    }
    return d;
  }

  /** Gives a newly created room what it had before. */
  restore(room: Room): void {
    const d = this.dormant.get(room.key);
    if (!d) return;
    this.dormant.delete(room.key);
    const r = d.record;
    if (r) {
      room.topic = r.topic;
      room.topicBy = r.topicBy;
      room.topicAt = r.topicAt;
      for (const flag of ROOM_FLAGS) room.modes[flag] = r.flags.includes(flag);
      room.modes.key = r.key;
      room.modes.limit = r.limit;
      room.owner = r.owner;
    }
    room.bans.push(...d.bans);
    for (const [name, until] of d.mutes) room.mutes.set(name, until);
  }

  /** Keeps an emptied room's state for when it comes back. */
  retire(room: Room): void {
    if (
      !room.topic &&
      !room.owner &&
      room.bans.length === 0 &&
      room.mutes.size === 0 &&
      !this.hasRecord(room)
    )
      return;
    this.dormant.set(room.key, {
      record: recordOf(room),
      bans: [...room.bans],
      mutes: new Map(room.mutes),
    });
  }

  private saved = new Set<string>();

  /** Something is kept under `name` (settings, bans, mutes of a room nobody is in). */
  knows(name: string): boolean {
    return this.dormant.has(fold(name));
  }

  /**
   * A room this node holds was renamed from `from` (rooms.ts): what the store keeps of it
   * — history, settings, bans, mutes, read markers — follows, in order after every write
   * this node queued before (its own messages to the old name included).
   */
  renamed(from: string, room: Room): void {
    if (this.saved.delete(fold(from))) this.saved.add(room.key);
    this.store.renameRoom(from, room.name);
  }

  private hasRecord(room: Room): boolean {
    return this.saved.has(room.key);
  }

  /** Writes the room's topic, modes and owner through to the store. */
  save(room: Room): void {
    this.saved.add(room.key);
    this.store.saveRoom(recordOf(room));
  }

  saveBan(
    room: string,
    kind: 'ban' | 'mute',
    mask: string,
    entry: { by: string; at: number; reason?: string; expiresAt?: number | null },
  ): void {
    const record: BanRecord = {
      room,
      mask,
      kind,
      reason: entry.reason ?? '',
      setBy: entry.by,
      createdAt: entry.at,
      expiresAt: entry.expiresAt ?? null,
    };
    this.store.saveBan(record);
  }

  deleteBan(room: string, kind: 'ban' | 'mute', mask: string): void {
    this.store.deleteBan(room, mask, kind);
  }
}

function recordOf(room: Room): RoomRecord {
  return {
    name: room.name,
    topic: room.topic,
    topicBy: room.topicBy,
    topicAt: room.topicAt,
    flags: ROOM_FLAGS.filter((flag) => room.modes[flag]),
    key: room.modes.key,
    limit: room.modes.limit,
    owner: room.owner,
  };
}
