/**
 * What the core's modules share: the ports, this node's tables, and the one way to make
 * something happen (`emit`). Each module (identity, membership, messaging, moderation,
 * accounts, housekeeping) receives this and nothing else, so none imports another's
 * class and hub.ts only composes them.
 */
import type { Counters } from './counters.js';
import type { ChatEvent } from './events.js';
import type { Fanout } from './fanout.js';
import type { ServerOptions } from './options.js';
import type { LocalPresence } from './presence.js';
import type { Bus, BusRoute, Clock, Logger, Presence, Store } from './ports.js';
import type { Renames } from './rename.js';
import type { Resume } from './resume.js';
import type { RoomStates } from './room-state.js';
import type { Rooms } from './rooms.js';
import type { Session } from './session.js';
import type { Sessions } from './sessions.js';
import type { Watchlist } from './watchlist.js';

export interface Core {
  readonly options: ServerOptions;
  readonly store: Store;
  readonly bus: Bus;
  readonly log: Logger;
  readonly clock: Clock;
  readonly counters: Counters;
  readonly nodeId: string;
  readonly sessions: Sessions;
  readonly rooms: Rooms;
  readonly roomStates: RoomStates;
  readonly presence: Presence;
  /** This node's presence, for the claims identity.ts makes (the port's claim, answered now). */
  readonly localPresence: LocalPresence;
  readonly fanout: Fanout;
  /** Resume tokens, replays, positions per name (resume.ts). */
  readonly resume: Resume;
  /** Renamed rooms remembered: redirections, positions that follow (rename.ts). */
  readonly renames: Renames;
  /** Who watches which names for coming and going (IRC MONITOR). */
  readonly watchlist: Watchlist;
  /**
   * Sends an event where `route` says, this node included; resolves once this node has
   * applied and delivered it. Rejects with a ChatError (`bus_unavailable`) when it cannot
   * be sent.
   */
  emit(event: ChatEvent, route: BusRoute): Promise<void>;
  /** Ends a local session (idempotent): leaves its rooms, tells the others, frees its name. */
  disconnect(s: Session, reason: string): void;
  /** True once shutdown has begun. */
  readonly shuttingDown: boolean;
}

/** Where an event about `s` goes: every room they are in, and their own node. */
export function routeOf(core: Core, s: Session): BusRoute {
  const rooms: string[] = [];
  for (const r of s.rooms) rooms.push(r.key);
  return { rooms, nodes: [core.nodeId] };
}
