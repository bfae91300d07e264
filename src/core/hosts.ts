/**
 * Displayed hosts: a server operator changes the host someone is shown with (IRC
 * CHGHOST, as UnrealIRCd and InspIRCd have it), on whatever node they are. The operator's
 * node sends a directive (`sethost`) to the target's node, which knows their rooms and
 * roles and announces the change (`host`) to everyone sharing a room: every node's
 * replicas and presence take the new mask, so IRC masks, WHO, WHOIS, NAMES and MONITOR
 * show it from then on. Watchers of the name (MONITOR) are told too (a `status` event,
 * watchlist.ts), for IRC's extended-monitor.
 *
 * The connection's address is not changed: name holds and resume proofs keep using it,
 * and bans match the displayed mask *or* the one with the real address (access.ts
 * `isBanned`), so a changed host shows a ban set on it and hides from none set on the
 * address (as InspIRCd checks both).
 */
import type { Core } from './context.js';
import { routeOf } from './context.js';
import { ChatError, ErrorCode } from './errors.js';
import type { HostEvent, SetHostEvent } from './events.js';
import { nodeOf } from './ids.js';
import type { Session } from './session.js';
import { announce } from './watchlist.js';

/**
 * The longest host accepted: 63 bytes, one DNS label's limit (RFC 1035 2.3.4) and
 * UnrealIRCd's HOSTLEN; IRC clients lay a mask out on one line with room to spare.
 */
export const MAX_HOST_LENGTH = 63;

/**
 * Characters a displayed host may have: letters, digits and `.-_:/` (names, addresses,
 * cloaks such as `staff/alice`). That excludes what would break a mask or a line: spaces,
 * controls, `!` `@` (mask separators), `*` `?` (wildcards), `,` (list separator).
 */
const HOST_CHAR = /^[A-Za-z0-9._:/-]+$/;

/** Why `host` cannot be a displayed host, or null when it can. */
export function hostProblem(host: string): string | null {
  if (host.length === 0) return 'A host cannot be empty';
  if (host.length > MAX_HOST_LENGTH) return `A host is at most ${MAX_HOST_LENGTH} characters`;
  if (!HOST_CHAR.test(host)) return 'A host has only letters, digits and . - _ : /';
  // A leading ':' would read as a trailing parameter in numerics that put the host last.
  if (host.startsWith(':')) return 'A host cannot start with ":"';
  return null;
}

export class Hosts {
  constructor(private readonly core: Core) {}

  /** A server operator changes `targetName`'s displayed host; returns their name. */
  async change(s: Session, targetName: string, host: string): Promise<string> {
    const { core } = this;
    if (!s.oper) {
      throw new ChatError(ErrorCode.PermissionDenied, 'Only server operators can do that');
    }
    const problem = hostProblem(host);
    if (problem !== null) throw new ChatError(ErrorCode.BadRequest, problem, host);
    const target = await core.presence.lookup(targetName);
    if (!target) {
      throw new ChatError(ErrorCode.NoSuchUser, `No one is called ${targetName}`, targetName);
    }
    const directive: SetHostEvent = {
      type: 'sethost',
      ts: core.clock.now(),
      origin: s.id,
      target: target.origin,
      user: target.user,
      host,
      by: s.name,
    };
    await core.emit(directive, { nodes: [nodeOf(target.origin)] });
    return target.name;
  }

  /** The directive reached this node: the target, if here, takes the host and says so. */
  apply(event: SetHostEvent): void {
    const { core } = this;
    const s = core.sessions.get(event.target);
    if (!s || s.closed || !s.registered) return;
    if (s.host === event.host && s.user === event.user) return;
    const rooms = [...s.rooms];
    const announced: HostEvent = {
      type: 'host',
      ts: core.clock.now(),
      origin: s.id,
      who: s.actor(),
      user: event.user,
      host: event.host,
      rooms: rooms.map((r) => r.name),
      roles: rooms.map((r) => r.local.get(s) ?? 0),
      realname: s.realname,
      ...(s.away !== null ? { away: s.away } : {}),
    };
    core.log.info({ id: s.id, name: s.name, host: event.host, by: event.by }, 'host changed');
    core
      .emit(announced, routeOf(core, s))
      .catch((err: unknown) => core.log.warn({ err, id: s.id }, 'host change not announced'));
    // extended-monitor: watchers who share no room hear it too (as CHGHOST), under the
    // old mask, like the room event.
    announce(core, s, 'host', { user: event.user, host: event.host }, announced.who);
  }

  /** A host event of one of this node's sessions (before its fan-out): it takes the mask. */
  changed(event: HostEvent): void {
    const s = this.core.sessions.get(event.origin);
    if (!s || s.closed) return;
    s.user = event.user;
    s.host = event.host;
    s.identityChanged();
    this.core.sessions.changed(s);
  }
}
