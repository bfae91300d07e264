/**
 * This node's sessions: the table, and the counts that must not cost a walk over every
 * session (LUSERS is sent to everyone who registers: counting by walking made filling a
 * server quadratic — 19,500 registrations took 10 s of CPU).
 */
import type { Counters } from './counters.js';
import { SessionIds } from './ids.js';
import { fold } from './names.js';
import type { Clock, Connection, Encoder } from './ports.js';
import { Session } from './session.js';

export class Sessions {
  private readonly all = new Set<Session>();
  private readonly byId = new Map<string, Session>();
  /** Sessions holding a name (registered or not yet), by folded name. */
  private readonly byName = new Map<string, Session>();
  /** Sessions still choosing a name: the sweep's registration timeout walks only these. */
  readonly choosing = new Set<Session>();
  /** Connections that want the sweep's clock (IRC PING). */
  tickers = 0;
  private registeredCount = 0;
  private invisibleCount = 0;
  private operCount = 0;
  private maxRegistered = 0;
  private readonly ids: SessionIds;
  /** Told when a registered session's public face changes (shared presence writes it). */
  onChange: ((s: Session) => void) | null = null;

  constructor(
    nodeId: string,
    private readonly counters: Counters,
    private readonly clock: Clock,
  ) {
    this.ids = new SessionIds(nodeId);
  }

  add(conn: Connection, encoder: Encoder): Session {
    const s = new Session(this.ids.next(), conn, encoder, conn.remoteAddress, this.clock.now());
    this.all.add(s);
    this.byId.set(s.id, s);
    this.choosing.add(s);
    if (conn.tick) this.tickers++;
    this.counters.connected(conn.protocol);
    return s;
  }

  /** Forgets a session; false when it was already gone. */
  remove(s: Session): boolean {
    if (!this.all.delete(s)) return false;
    this.byId.delete(s.id);
    if (s.name && this.byName.get(fold(s.name)) === s) this.byName.delete(fold(s.name));
    this.choosing.delete(s);
    if (s.conn.tick) this.tickers--;
    this.counters.disconnected(s.conn.protocol);
    if (s.registered) {
      this.registeredCount--;
      this.census(s, -1);
    }
    return true;
  }

  /** The local session with this id (an event's `origin`), if it is still here. */
  get(id: string): Session | undefined {
    return this.byId.get(id);
  }

  /** The local session called `name` (registered or still registering), if any. */
  named(name: string): Session | undefined {
    return this.byName.get(fold(name));
  }

  /** Gives a local session its (new) name in the index; the caller has claimed it. */
  rename(s: Session, name: string): void {
    if (s.name && this.byName.get(fold(s.name)) === s) this.byName.delete(fold(s.name));
    s.name = name;
    s.identityChanged();
    if (name) this.byName.set(fold(name), s);
    this.changed(s);
  }

  /** A session's name, rooms, away text, account or modes changed. */
  changed(s: Session): void {
    if (s.registered) this.onChange?.(s);
  }

  markRegistered(s: Session): void {
    s.registered = true;
    this.choosing.delete(s);
    this.registeredCount++;
    this.census(s, 1);
    this.maxRegistered = Math.max(this.maxRegistered, this.registeredCount);
    this.changed(s);
  }

  /** Changes a user-mode flag while keeping the counts right. */
  setFlag(s: Session, flag: 'oper' | 'invisible' | 'wallops' | 'bot', on: boolean): boolean {
    if (s[flag] === on) return false;
    if (s.registered) this.census(s, -1);
    s[flag] = on;
    // Events carry the bot flag in their actor.
    if (flag === 'bot') s.identityChanged();
    if (s.registered) this.census(s, 1);
    this.changed(s);
    return true;
  }

  private census(s: Session, sign: 1 | -1): void {
    if (s.invisible) this.invisibleCount += sign;
    if (s.oper) this.operCount += sign;
  }

  [Symbol.iterator](): IterableIterator<Session> {
    return this.all.values();
  }

  get size(): number {
    return this.all.size;
  }

  get registered(): number {
    return this.registeredCount;
  }

  get peak(): number {
    return this.maxRegistered;
  }

  get invisible(): number {
    return this.invisibleCount;
  }

  get opers(): number {
    return this.operCount;
  }
}
