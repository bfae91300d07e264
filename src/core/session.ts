/**
 * One connected person on one connection of this node. Holds identity and membership;
 * protocols keep their own per-connection state in `proto` (IRC capabilities, prompt
 * state). Kept small on purpose: tens of thousands of these live in one process.
 */
import type { Actor } from './events.js';
import type { Connection, Encoder, HoldProof } from './ports.js';
import type { Room } from './room.js';
import { SmallSet } from './small-set.js';

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
  /** Server operator. */
  oper = false;
  /** Shown only to those who share a room (IRC user mode +i). */
  invisible = false;
  /** Receives operator broadcasts (IRC user mode +w). */
  wallops = false;
  /** A declared bot (IRC user mode +B, JSON `hello` with `bot`): others' clients can tell. */
  bot = false;
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
   * Per room (folded name): the room's `lastId` when this session's join was applied, so a
   * resume replays up to it and live delivery takes over after it. Made on first use.
   */
  joinMarks: Map<string, string> | null = null;
  /**
   * Whether the name is held for this person if the connection ends without a quit
   * (Presence.hold); false once they were killed or banned.
   */
  holdName = true;

  constructor(
    /** Node-qualified (ids.ts): `origin` of the events this session causes. */
    readonly id: string,
    readonly conn: Connection,
    readonly encoder: Encoder,
    /** Host shown to others (the remote address). */
    readonly host: string,
    now: number,
  ) {
    this.connectedAt = now;
    this.lastActive = now;
  }

  get mask(): string {
    return `${this.name}!${this.user || this.name}@${this.host}`;
  }

  /** The person as events describe them; rebuilt only when the name, account or bot flag changes. */
  actor(): Actor {
    if (!this.actorCache) {
      this.actorCache = {
        name: this.name,
        mask: this.mask,
        account: this.account,
        ...(this.bot ? { bot: true as const } : {}),
      };
    }
    return this.actorCache;
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
  held: Buffer[] | null = null;
  private heldBytes = 0;
  private heldLimit = 0;

  /** Holds live events from now on, up to `limit` bytes (then they flow again, in order). */
  holdLive(limit: number): void {
    if (this.held !== null) return;
    this.held = [];
    this.heldBytes = 0;
    this.heldLimit = limit;
  }

  /** A live event while holding. */
  keep(data: Buffer): void {
    (this.held as Buffer[]).push(data);
    this.heldBytes += data.length;
    if (this.heldBytes > this.heldLimit) this.releaseLive();
  }

  /** Sends what was held and stops holding. */
  releaseLive(): void {
    const held = this.held;
    this.held = null;
    if (held !== null) for (const data of held) this.send(data);
  }
}
