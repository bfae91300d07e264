/**
 * One connected person on one connection of this node. Holds identity and membership;
 * protocols keep their own per-connection state in `proto` (IRC capabilities, prompt
 * state). Kept small on purpose: tens of thousands of these live in one process.
 */
import type { Actor } from './events.js';
import type { Connection, Encoder, HoldProof, StreamPosition } from './ports.js';
import type { Room } from './room.js';
import { SmallMap } from './small-map.js';
import { SmallSet } from './small-set.js';

/** Where a session's join is in a room's stream (Session.joinOffsets): `ts` its time. */
export interface JoinPosition extends StreamPosition {
  ts: number;
}

const OPER = 1;
const INVISIBLE = 2;
const WALLOPS = 4;
const BOT = 8;
const HOLD_NAME = 16;

/** Live events held back while a join's reply and replay are read (Session.holdLive). */
export interface HeldLive {
  events: Buffer[];
  bytes: number;
  limit: number;
}

export class Session {
  name = '';
  /** IRC username (ident); other protocols use the name. */
  user = '';
  realname = '';
  registered = false;
  closed = false;
  /** Why the server closed this connection, when it did (eviction, kill, shutdown). */
  closeReason: string | null = null;
  away: string | null = null;
  account: string | null = null;
  /**
   * The rarely changed yes/no facts (oper, invisible, wallops, bot, holdName) as bits of
   * one number, behind accessors: a field each cost every idle session 8 bytes.
   */
  private flags = HOLD_NAME;
  /**
   * The names this session watches for coming and going (IRC MONITOR), folded name → as
   * given; null until the first (most people never watch anyone). Kept by watchlist.ts.
   */
  watching: Map<string, string> | null = null;
  readonly rooms = new SmallSet<Room>();
  /** Room that plain text goes to (line and terminal clients). */
  current: Room | null = null;
  connectedAt: number;
  lastActive: number;
  /** Per-dispatch mark so a person in several affected rooms is told once. */
  mark = 0;
  /**
   * Capability bits the protocol's encoder varies on (IRC: the IRCv3 capabilities this
   * client enabled). Here rather than in `proto` because the encoder reads them for every
   * recipient of every fan-out, and one object per recipient is one cache miss fewer.
   */
  caps = 0;
  private actorCache: Actor | null = null;
  /** Protocol-owned state. */
  proto: unknown = undefined;
  /**
   * What this session shows to get a name kept for someone who left (Presence.hold): the
   * session of a verified resume token, or its address (telnet, IRC). Null: nothing.
   */
  proof: HoldProof | null = null;
  /**
   * Before registration: the name (folded) this session already holds as registered (a
   * claim in 'register' or 'force' mode, which no other claim but 'force' takes over), so
   * registering right after does not claim it a second time (identity.ts `register`).
   */
  heldRegistered: string | null = null;
  /**
   * Per room (folded name): the room's `lastId` when this session's join was applied, so a
   * resume replays up to it and live delivery takes over after it. Made on first use.
   */
  joinMarks: SmallMap<string, string> | null = null;
  /**
   * Per room (folded name), on a sequencing bus (Redis): the join's offset in the room's
   * stream, and when it was. A replay reads the stream before it for messages other nodes have not written
   * to the store yet (resume.ts). Made on first use.
   */
  joinOffsets: SmallMap<string, JoinPosition> | null = null;

  constructor(
    /** Node-qualified (ids.ts): `origin` of the events this session causes. */
    readonly id: string,
    readonly conn: Connection,
    readonly encoder: Encoder,
    /**
     * Host shown to others: the remote address (`conn.remoteAddress`) until an operator
     * changes it (core/hosts.ts).
     */
    public host: string,
    now: number,
  ) {
    this.connectedAt = now;
    this.lastActive = now;
  }

  /** Server operator. */
  get oper(): boolean {
    return (this.flags & OPER) !== 0;
  }
  set oper(on: boolean) {
    this.setBit(OPER, on);
  }

  /** Shown only to those who share a room (IRC user mode +i). */
  get invisible(): boolean {
    return (this.flags & INVISIBLE) !== 0;
  }
  set invisible(on: boolean) {
    this.setBit(INVISIBLE, on);
  }

  /** Receives operator broadcasts (IRC user mode +w). */
  get wallops(): boolean {
    return (this.flags & WALLOPS) !== 0;
  }
  set wallops(on: boolean) {
    this.setBit(WALLOPS, on);
  }

  /** A declared bot (IRC user mode +B, JSON `hello` with `bot`): others' clients can tell. */
  get bot(): boolean {
    return (this.flags & BOT) !== 0;
  }
  set bot(on: boolean) {
    this.setBit(BOT, on);
  }

  /**
   * Whether the name is held for this person if the connection ends without a quit
   * (Presence.hold); false once they were killed or banned.
   */
  get holdName(): boolean {
    return (this.flags & HOLD_NAME) !== 0;
  }
  set holdName(on: boolean) {
    this.setBit(HOLD_NAME, on);
  }

  private setBit(bit: number, on: boolean): void {
    this.flags = on ? this.flags | bit : this.flags & ~bit;
  }

  get mask(): string {
    // Joined, not concatenated: one flat string rather than a rope of four (~100 bytes
    // kept by every session's actor).
    return [this.name, '!', this.user || this.name, '@', this.host].join('');
  }

  /** The person as events describe them; rebuilt only when the name, account or bot flag changes. */
  actor(): Actor {
    if (!this.actorCache) this.actorCache = this.describe();
    return this.actorCache;
  }

  /**
   * The person as events describe them, without keeping it: for one-off events (status
   * announcements such as registration's `online`) after which a session may stay idle
   * for hours; what it says or joins keeps one (actor()).
   */
  describe(): Actor {
    if (this.actorCache) return this.actorCache;
    const actor: Actor = { name: this.name, mask: this.mask, account: this.account };
    // Added, not spread in: a spread literal's object is made with room to spare.
    if (this.bot) actor.bot = true;
    return actor;
  }

  identityChanged(): void {
    this.actorCache = null;
  }

  /** Sends bytes to this connection, within its send limit (see Connection.write). */
  send(data: Buffer): void {
    if (!this.closed) this.conn.write(data);
  }

  /**
   * Live events held back (Fanout writes here) while a join's reply and replay are being
   * read, so the client reads them in order: what it missed, then what follows. Null: not
   * holding.
   */
  held: HeldLive | null = null;

  /** Holds live events from now on, up to `limit` bytes (then they flow again, in order). */
  holdLive(limit: number): void {
    if (this.held !== null) return;
    this.held = { events: [], bytes: 0, limit };
  }

  /** A live event while holding. */
  keep(data: Buffer): void {
    const held = this.held as HeldLive;
    held.events.push(data);
    held.bytes += data.length;
    if (held.bytes > held.limit) this.releaseLive();
  }

  /** Sends what was held and stops holding. */
  releaseLive(): void {
    const held = this.held;
    this.held = null;
    if (held !== null) for (const data of held.events) this.send(data);
  }
}
