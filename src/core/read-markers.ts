/**
 * Read markers: how far someone has read in a room or a private conversation, one value
 * per target, shared by every protocol (IRCv3 draft/read-marker MARKREAD, JSON markread,
 * the terminal client, the web page). A marker only ever moves forward (the spec: "The
 * last read timestamp of a target MUST only ever increase").
 *
 * An identified account's markers are kept in the store and follow the account to every
 * connection and every node: a change is an event routed to everyone, and each node
 * tells its sessions of that account. A guest's markers live with the connection only.
 *
 * A marker is a message id (ids.ts). A marker set by time (IRC speaks timestamps) is the
 * last id of that millisecond, so everything sent up to and including it counts as read,
 * and the time read back is the time set.
 */
import { requireReadable } from './access.js';
import type { Core } from './context.js';
import { ChatError, ErrorCode } from './errors.js';
import type { MarkerEvent } from './events.js';
import { guestDirectKey } from './direct-keys.js';
import { checkName, checkRoom, fold } from './names.js';
import type { ReadMarker } from './ports.js';
import type { Session } from './session.js';

const MS = 1_000_000n;
const MAX_ID = (1n << 63n) - 1n;
const DECIMAL_ID = /^\d{1,19}$/;

/** The marker that counts everything up to and including millisecond `ms` as read. */
export function markerAt(ms: number): string {
  return String(BigInt(Math.max(0, Math.floor(ms))) * MS + (MS - 1n));
}

/** The millisecond a marker (a message id) falls in. */
export function markerTime(id: string): number {
  return Number(BigInt(id) / MS);
}

/** True for a string that can be a marker (a message id). */
export function isMarkerId(id: string): boolean {
  return DECIMAL_ID.test(id) && BigInt(id) <= MAX_ID;
}

export class ReadMarkers {
  /** Guests' markers, with their connection: folded target → marker. */
  private readonly guests = new WeakMap<Session, Map<string, ReadMarker>>();

  constructor(private readonly core: Core) {}

  /** Every marker of `s` (their account's, or this connection's for a guest). */
  async all(s: Session): Promise<ReadMarker[]> {
    if (s.account === null) return [...(this.guests.get(s)?.values() ?? [])];
    return this.core.store.readMarkers(s.account);
  }

  /** The marker of `s` for `target`, or null when none was set. */
  async get(s: Session, target: string): Promise<ReadMarker | null> {
    this.checkTarget(target);
    const key = fold(target);
    return (await this.all(s)).find((m) => fold(m.target) === key) ?? null;
  }

  /**
   * Moves the marker of `s` for `target` forward to `id` and returns the marker now in
   * effect (the one stored when it was further on), and whether it moved. A change
   * reaches every connection of the account, this one included, as a `marker` event
   * before this resolves.
   */
  async set(
    s: Session,
    target: string,
    id: string,
  ): Promise<{ marker: ReadMarker; changed: boolean }> {
    if (!isMarkerId(id)) throw new ChatError(ErrorCode.BadRequest, 'A marker is a message id');
    const name = await this.readableTarget(s, target);
    const held = await this.get(s, name);
    if (held && BigInt(held.id) >= BigInt(id)) return { marker: held, changed: false };
    const marker = { target: name, id };
    if (s.account === null) {
      let mine = this.guests.get(s);
      if (!mine) {
        mine = new Map();
        this.guests.set(s, mine);
      }
      mine.set(fold(name), marker);
    } else {
      this.core.store.saveReadMarker(s.account, marker);
    }
    const event: MarkerEvent = {
      type: 'marker',
      ts: this.core.clock.now(),
      origin: s.id,
      account: s.account,
      target: name,
      id,
    };
    // The account's connections may be on any node; a guest's is this one.
    await this.core.emit(
      event,
      s.account === null ? { nodes: [this.core.nodeId] } : { everyone: true },
    );
    return { marker, changed: true };
  }

  /** A room or a person's name, or a ChatError. */
  private checkTarget(target: string): void {
    if (target.startsWith('#')) checkRoom(target, this.core.options.roomNameLength);
    else checkName(target, this.core.options.nameLength);
  }

  /**
   * The name a marker is kept under: a room `s` may read (as the room spells itself),
   * someone online or with an account, or — for an identified `s` — a guest who is gone
   * but whose conversation with `s`'s account is kept (private history keeps a DM when one
   * side is identified: docs/protocol.md). Markers for things that do not exist (a name
   * nobody has, a guest `s` never talked with) would only fill the store.
   */
  private async readableTarget(s: Session, target: string): Promise<string> {
    this.checkTarget(target);
    if (target.startsWith('#')) return requireReadable(s, this.core.rooms.get(target), target).name;
    const online = await this.core.presence.lookup(target);
    if (online) return online.account ?? online.name;
    const account = await this.core.store.getAccount(target);
    if (account) return account.name;
    if (s.account !== null) {
      const [kept] = await this.core.store.history({
        room: guestDirectKey(s.account, target),
        limit: 1,
      });
      // The guest's name as they spelled it, when the newest message is theirs.
      if (kept) return fold(kept.from) === fold(target) ? kept.from : target;
    }
    throw new ChatError(ErrorCode.NoSuchUser, `No one is called ${target}`, target);
  }
}
