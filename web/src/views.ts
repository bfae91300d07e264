/**
 * What the reader has open: rooms and private chats ("views"), each with its own log,
 * members, topic and unread count. Keys are case-folded names; rooms start with "#".
 */
import { fold } from './format.js';
import type { WireMember } from './protocol.js';
import { MessageLog } from './ui/log.js';

export class View {
  topic = '';
  members = new Map<string, WireMember>();
  /** For rooms: the server has us as a member. */
  joined = false;
  unread = 0;
  mentioned = false;
  /** The account's read marker here (a message id), as the server last said it. */
  marker: string | null = null;
  /** The marker a join reply brought, applied once its history has arrived. */
  pendingMarker: string | null = null;
  /** The newest id this page asked the server to mark read (not to ask twice). */
  markedTo: string | null = null;
  historyDone = false;
  /** Members, topic and modes are from a connection that is gone; the join reply renews them. */
  stale = false;
  loadingHistory = false;
  /** Where the reader was when they switched away. */
  atBottom = true;
  scrollTop = 0;
  readonly log: MessageLog;

  constructor(
    public name: string,
    readonly kind: 'room' | 'dm',
    onMore: (view: View) => void,
  ) {
    this.log = new MessageLog(name, () => onMore(this));
  }

  get key(): string {
    return fold(this.name);
  }

  setMembers(list: WireMember[]): void {
    this.members = new Map(list.map((m) => [fold(m.name), m]));
    this.stale = false;
  }

  memberNames(): string[] {
    return [...this.members.values()].map((m) => m.name);
  }

  /** Ops first, then voiced, then everyone, each alphabetically. */
  sortedMembers(): WireMember[] {
    const rank = (m: WireMember): number => (m.op ? 0 : m.voice ? 1 : 2);
    return [...this.members.values()].sort(
      (a, b) =>
        rank(a) - rank(b) || a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }),
    );
  }
}

export class Views {
  private readonly map = new Map<string, View>();
  active: View | null = null;

  constructor(private readonly onMore: (view: View) => void) {}

  get(name: string): View | undefined {
    return this.map.get(fold(name));
  }

  /** The view for a room ("#x") or a person, created on first use. */
  ensure(name: string): View {
    let v = this.map.get(fold(name));
    if (!v) {
      v = new View(name, name.startsWith('#') ? 'room' : 'dm', this.onMore);
      this.map.set(v.key, v);
    }
    return v;
  }

  remove(view: View): void {
    this.map.delete(view.key);
    view.log.el.remove();
    if (this.active === view) this.active = null;
  }

  rename(view: View, name: string): void {
    this.map.delete(view.key);
    view.name = name;
    this.map.set(view.key, view);
  }

  rooms(): View[] {
    return [...this.map.values()].filter((v) => v.kind === 'room');
  }

  dms(): View[] {
    return [...this.map.values()].filter((v) => v.kind === 'dm');
  }

  all(): View[] {
    return [...this.map.values()];
  }
}
