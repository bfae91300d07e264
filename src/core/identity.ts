/**
 * Who someone is: choosing and changing a name, completing registration, and leaving.
 * Names are claimed through presence (ports.ts): a session still registering holds its
 * name only tentatively, so it never blocks someone who completes registration first.
 */
import { ChatError, ErrorCode } from './errors.js';
import type { Core } from './context.js';
import { routeOf } from './context.js';
import { checkName, fold } from './names.js';
import type { Session } from './session.js';
import { maskMatches } from './names.js';
import type { BanEntry } from './room.js';
import { isQuit } from './resume.js';
import { cleanText, stripControls } from './text.js';
import { announce } from './watchlist.js';

export interface WhowasEntry {
  name: string;
  user: string;
  host: string;
  realname: string;
  ts: number;
}

export class Identity {
  private readonly whowasList: WhowasEntry[] = [];
  /** Server-wide bans (admin console `ban`): checked at connect and registration. */
  readonly serverBans: BanEntry[] = [];

  constructor(private readonly core: Core) {}

  /** The server-wide ban matching `mask`, if one is in force. */
  serverBan(mask: string): BanEntry | undefined {
    const now = this.core.clock.now();
    return this.serverBans.find(
      (b) => (b.expiresAt == null || b.expiresAt > now) && maskMatches(b.mask, mask),
    );
  }

  /**
   * Gives `s` a name. Before registration this only holds it (IRC sends NICK before
   * USER) unless `registering` says registration follows at once (the line prompt, JSON
   * `hello`), which takes the name from a holder that never finished registering;
   * afterwards it is a rename that everyone sharing a room sees.
   */
  async setName(s: Session, name: string, registering = false): Promise<void> {
    const { core } = this;
    checkName(name, core.options.nameLength);
    if (name === s.name) return;
    const mode = s.registered || registering ? 'register' : 'tentative';
    const claim = await core.presence.claim(name, s.id, mode, s.proof ?? undefined);
    if (!claim.ok || s.closed) {
      throw new ChatError(ErrorCode.NameInUse, `The name ${name} is already in use`, name);
    }
    if (!s.registered) {
      const old = s.name;
      s.heldRegistered = mode === 'register' ? fold(name) : null;
      core.sessions.rename(s, name);
      if (old && fold(old) !== fold(name)) core.presence.release(old, s.id);
      return;
    }
    const who = s.actor();
    await core.emit(
      {
        type: 'nick',
        ts: core.clock.now(),
        origin: s.id,
        who,
        newName: name,
        rooms: [...s.rooms].map((r) => r.name),
      },
      routeOf(core, s),
    );
    announce(core, s, 'nick', { newName: name }, who);
  }

  /**
   * Changes the realname others see in WHO and WHOIS (IRCv3 setname, any protocol that
   * offers it). The cleaning rule's characters are removed; empty or longer than
   * `realnameLength` bytes is refused rather than cut, so the person knows what others see.
   */
  async setRealname(s: Session, text: string): Promise<string> {
    const { core } = this;
    const realname = stripControls(text);
    if (realname.trim() === '') {
      throw new ChatError(ErrorCode.BadRequest, 'A realname cannot be empty');
    }
    if (Buffer.byteLength(realname) > core.options.realnameLength) {
      throw new ChatError(
        ErrorCode.BadRequest,
        `A realname is at most ${core.options.realnameLength} bytes`,
      );
    }
    if (!s.registered) {
      s.realname = realname;
      return realname;
    }
    await core.emit(
      {
        type: 'realname',
        ts: core.clock.now(),
        origin: s.id,
        who: s.actor(),
        realname,
        rooms: [...s.rooms].map((r) => r.name),
      },
      routeOf(core, s),
    );
    announce(core, s, 'realname', { realname });
    return realname;
  }

  /** Applies a nick event of one of this node's sessions (called before its fan-out). */
  renamed(s: Session, newName: string): void {
    const old = s.name;
    this.remember(s);
    this.core.sessions.rename(s, newName);
    if (fold(old) !== fold(newName)) this.core.presence.release(old, s.id);
  }

  /** Completes registration once the session has a name. */
  async register(s: Session): Promise<void> {
    const { core } = this;
    if (s.registered) return;
    if (!s.name) throw new ChatError(ErrorCode.NameRequired, 'Choose a name first');
    const ban = this.serverBan(s.mask);
    if (ban) {
      throw new ChatError(
        ErrorCode.Banned,
        `You are banned from this server${ban.reason ? `: ${ban.reason}` : ''}`,
        s.name,
      );
    }
    // One CLAIM per registration: a name chosen with registration to follow (the line
    // prompt, JSON hello) or taken with the account's password is held as registered
    // already, and only another 'force' (which ends this session) could take it since.
    // Only a name held tentatively (IRC's NICK before USER) is claimed again here.
    if (s.heldRegistered !== fold(s.name)) {
      const claim = await core.presence.claim(s.name, s.id, 'register', s.proof ?? undefined);
      if (s.closed) throw new ChatError(ErrorCode.NotRegistered, 'The connection closed');
      if (!claim.ok) {
        throw new ChatError(ErrorCode.NameInUse, `The name ${s.name} is already in use`, s.name);
      }
    } else if (s.closed) throw new ChatError(ErrorCode.NotRegistered, 'The connection closed');
    s.heldRegistered = null;
    // The index may point at a tentative holder this registration displaced.
    core.sessions.rename(s, s.name);
    core.sessions.markRegistered(s);
    if (!s.user) s.user = s.name;
    s.identityChanged();
    s.lastActive = core.clock.now();
    announce(core, s, 'online');
    core.log.debug({ id: s.id, name: s.name, protocol: s.conn.protocol }, 'registered');
  }

  /** Forgets a local session: leaves its rooms, tells the others, frees its name. */
  disconnect(s: Session, reason: string): void {
    const { core } = this;
    if (!core.sessions.remove(s)) return;
    s.closed = true;
    // A reason may come from the person (QUIT :text, JSON quit): the cleaning rule.
    const why = cleanText(s.closeReason ?? reason, core.options.topicLength);
    core.watchlist.clear(s);
    if (s.registered) {
      const rooms = [...s.rooms];
      const route = routeOf(core, s);
      const bulk =
        rooms.length > 0 && rooms.every((r) => r.size > core.options.rosterDigestThreshold);
      // Where they stopped reading, for when they come back under this name (telnet).
      core.resume.saveSeen(s);
      // This node's own sessions leave their rooms at once: the connection is gone, and
      // a bus that is down must not keep them in.
      for (const room of rooms) {
        core.rooms.leaveLocal(room, s);
        core.rooms.dropIfEmpty(room);
      }
      this.remember(s);
      core
        .emit(
          {
            type: 'quit',
            ts: core.clock.now(),
            origin: s.id,
            who: s.actor(),
            reason: why,
            rooms: rooms.map((r) => r.name),
            ...(bulk ? { bulk } : {}),
          },
          route,
        )
        .catch((err: unknown) => core.log.warn({ err, id: s.id }, 'quit not announced'));
      announce(core, s, 'offline');
    }
    if (s.name) {
      // A dropped connection or a shutdown keeps the name for its person for a while; a
      // quit, a kill or a ban gives it up at once.
      const holdMs = core.options.nameHoldMs;
      if (s.registered && s.holdName && holdMs > 0 && (core.shuttingDown || !isQuit(why))) {
        core.presence.hold(s.name, s.id, s.host, holdMs);
      } else core.presence.release(s.name, s.id);
    }
    if (s.registered) core.presence.offline?.(s.id);
    core.log.debug({ id: s.id, name: s.name || undefined, reason: why }, 'disconnect');
    s.conn.end(s.encoder.farewell?.(why, s, core.shuttingDown) ?? null, why);
  }

  private remember(s: Session): void {
    this.whowasList.push({
      name: s.name,
      user: s.user,
      host: s.host,
      realname: s.realname,
      ts: this.core.clock.now(),
    });
    const limit = this.core.options.whowasLimit;
    if (this.whowasList.length > limit) this.whowasList.splice(0, this.whowasList.length - limit);
  }

  /** Most recent first. */
  whowas(name: string, count: number): WhowasEntry[] {
    const key = fold(name);
    const out: WhowasEntry[] = [];
    for (let i = this.whowasList.length - 1; i >= 0 && out.length < count; i--) {
      const w = this.whowasList[i] as WhowasEntry;
      if (fold(w.name) === key) out.push(w);
    }
    return out;
  }
}
