/**
 * What the terminal client knows about its own situation, kept current from server events:
 * its name, its rooms, the current room and who is in each room. The prompt, rejoining
 * after a reconnect and Tab completion all read it. Pure: fed events, no I/O.
 */
import type { ServerMessage } from '../protocols/json/schema.js';

export class Roster {
  /** Rooms we are in, in the order we joined them, with the server's spelling. */
  readonly rooms = new Set<string>();
  current: string | null = null;
  private readonly members = new Map<string, Set<string>>();
  /** The name the user asked for (--name, or their last /nick): what a reconnect asks for. */
  wanted: string;
  /** The wanted name, while the server gave us a variant because someone else had it. */
  taken: string | null = null;

  constructor(public name: string) {
    this.wanted = name;
  }

  /** Updates from one server event; true when the prompt (name or room) changed. */
  apply(msg: ServerMessage): boolean {
    switch (msg.type) {
      case 'welcome':
        this.name = msg.name;
        this.taken = key(msg.name) === key(this.wanted) ? null : this.wanted;
        // The welcome names the rooms the server already put us in. The `joined` for them
        // may arrive in a later packet, after the first piped line has been read.
        for (const room of msg.rooms) this.rooms.add(room.name);
        this.current = msg.rooms[0]?.name ?? this.current;
        return true;
      case 'joined':
        if (msg.name !== this.name) {
          this.members.get(key(msg.room))?.add(msg.name);
          return false;
        }
        this.rooms.add(msg.room);
        this.current = msg.room;
        if (msg.members) this.members.set(key(msg.room), new Set(msg.members.map((m) => m.name)));
        return true;
      case 'left':
        if (msg.name !== this.name) {
          this.members.get(key(msg.room))?.delete(msg.name);
          return false;
        }
        this.forget(msg.room);
        return true;
      case 'quit':
        for (const set of this.members.values()) set.delete(msg.name);
        return false;
      case 'nick':
        for (const set of this.members.values()) if (set.delete(msg.old)) set.add(msg.name);
        if (msg.old !== this.name) return false;
        this.name = msg.name;
        this.wanted = msg.name;
        this.taken = null;
        return true;
      case 'who':
        this.members.set(key(msg.room), new Set(msg.members.map((m) => m.name)));
        return false;
      case 'rename':
        return this.renamed(msg.room, msg.to);
      default:
        return false;
    }
  }

  /**
   * A room of ours took a new name: it keeps its place in the list (so a reconnect rejoins
   * it under the new name), its members, and being current.
   */
  private renamed(from: string, to: string): boolean {
    const list = [...this.rooms];
    const i = list.findIndex((r) => key(r) === key(from));
    if (i < 0) return false;
    list[i] = to;
    this.rooms.clear();
    for (const r of list) this.rooms.add(r);
    const members = this.members.get(key(from));
    if (members) {
      this.members.delete(key(from));
      this.members.set(key(to), members);
    }
    if (this.current !== null && key(this.current) === key(from)) this.current = to;
    return true;
  }

  private forget(room: string): void {
    for (const r of this.rooms) if (key(r) === key(room)) this.rooms.delete(r);
    this.members.delete(key(room));
    if (this.current !== null && key(this.current) === key(room))
      this.current = [...this.rooms].at(-1) ?? null;
  }

  /** Names in a room (for Tab completion). */
  membersOf(room: string | null): string[] {
    return room === null ? [] : [...(this.members.get(key(room)) ?? [])];
  }

  /** Forgets everything but the name: a new connection starts from its welcome. */
  reset(): void {
    this.rooms.clear();
    this.members.clear();
    this.current = null;
  }

  /** `[alice@#lobby]> `, or `[alice_ (alice is taken)@#lobby]> ` until the user picks a name. */
  prompt(): string {
    const note = this.taken === null ? '' : ` (${this.taken} is taken)`;
    return `[${this.name}${note}@${this.current ?? '(no room)'}]> `;
  }

  /** Said once when the server gave us a variant: who has our name and what to do. */
  takenNotice(): string | null {
    return this.taken === null
      ? null
      : `* ${this.taken} is taken; you are ${this.name} — /nick to change`;
  }
}

/** "alice" → "alice_", "alice_2", … within the server's name length (core/options: 30). */
export function variantName(base: string, tries: number): string {
  const suffix = tries === 1 ? '_' : `_${tries}`;
  return base.slice(0, 30 - suffix.length) + suffix;
}

// Room names are case-insensitive on the server (ASCII casemapping).
const key = (room: string) => room.toLowerCase();
