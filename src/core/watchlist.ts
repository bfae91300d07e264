/**
 * Watch lists: a person asks to hear when certain names come online and go offline (IRC
 * MONITOR, ircv3.net/specs/extensions/monitor), and, where their protocol can show it,
 * when the watched person's away text, account, realname or displayed host changes
 * (extended-monitor).
 *
 * A watched person may be on any node, so every change that concerns watchers is a
 * `status` event sent to every node (`announce`): each node delivers it to its own
 * watchers of that name, found here by folded name, without walking its sessions. Names
 * are watched, not people: a name nobody holds is simply offline until someone takes it.
 */
import type { Core } from './context.js';
import type { Actor, StatusChange, StatusEvent } from './events.js';
import { fold } from './names.js';
import type { Session } from './session.js';

export class Watchlist {
  /** Folded name → the local sessions watching it. */
  private readonly byName = new Map<string, Set<Session>>();

  constructor(private readonly limit: () => number) {}

  /**
   * Adds names to `s`'s list; returns those added (already watched ones are left as
   * they are) and, when the list would pass its limit, the names that did not fit.
   */
  add(s: Session, names: readonly string[]): { added: string[]; refused: string[] } {
    const list = (s.watching ??= new Map());
    const added: string[] = [];
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const key = fold(name);
      if (list.has(key)) continue;
      if (list.size >= this.limit()) return { added, refused: names.slice(i) };
      list.set(key, name);
      let watchers = this.byName.get(key);
      if (!watchers) {
        watchers = new Set();
        this.byName.set(key, watchers);
      }
      watchers.add(s);
      added.push(name);
    }
    return { added, refused: [] };
  }

  remove(s: Session, names: readonly string[]): void {
    for (const name of names) {
      const key = fold(name);
      if (!s.watching?.delete(key)) continue;
      const watchers = this.byName.get(key);
      watchers?.delete(s);
      if (watchers?.size === 0) this.byName.delete(key);
    }
  }

  /** Empties `s`'s list (IRC MONITOR C, and when the session ends). */
  clear(s: Session): void {
    if (!s.watching) return;
    this.remove(s, [...s.watching.keys()]);
    s.watching = null;
  }

  /** The names `s` watches, as given. */
  list(s: Session): string[] {
    return s.watching ? [...s.watching.values()] : [];
  }

  /** The local sessions watching `name`, if any. */
  watchers(name: string): ReadonlySet<Session> | undefined {
    return this.byName.get(fold(name));
  }
}

/**
 * Tells every node's watchers of `s` what changed (fire and forget: watchers are told
 * what they can be, and a bus that is down has been said to everyone already). `who` is
 * the person as they were before the change (a rename's old name).
 */
export function announce(
  core: Core,
  s: Session,
  change: StatusChange,
  detail: Pick<StatusEvent, 'newName' | 'away' | 'realname' | 'user' | 'host'> = {},
  who: Actor = s.describe(),
): void {
  const rooms: string[] = [];
  for (const r of s.rooms) rooms.push(r.name);
  core
    .emit(
      { type: 'status', ts: core.clock.now(), origin: s.id, who, change, rooms, ...detail },
      { everyone: true },
    )
    .catch((err: unknown) => core.log.debug({ err, id: s.id, change }, 'status not announced'));
}
