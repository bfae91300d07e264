/**
 * Saying things: room messages, private messages, server notices, and reading history.
 * Text passes the one cleaning rule (text.ts) here, whatever protocol it came from.
 */
import { isBanned, mayRead, requireReadable } from './access.js';
import type { Core } from './context.js';
import { listConversations, type Target } from './conversations.js';
import { directKey, guestDirectKey, mergePages } from './direct-keys.js';
import { ChatError, ErrorCode } from './errors.js';
import type {
  Actor,
  DirectEvent,
  DirectHistoryEntry,
  EventEntry,
  HistoryEntry,
  MessageEvent,
  MessageKind,
  SendKind,
} from './events.js';
import { MessageIds } from './ids.js';
import { requireRegistered, requireRoom } from './membership.js';
import { checkRoom, fold, nameProblem } from './names.js';
import type { BusRoute, HistoryQuery, PersonInfo } from './ports.js';
import type { Session } from './session.js';
import { cleanText } from './text.js';
import { checkClientTags } from './tags.js';
import { keepsTagmsg, mayKeepEvents } from './event-history.js';
import { nodeOf } from './ids.js';

export interface NoticeOptions {
  to?: string;
  room?: string;
  opersOnly?: boolean;
  wallops?: boolean;
  from?: Actor;
}

export { directKey } from './direct-keys.js';

export class Messaging {
  private readonly ids: MessageIds;

  constructor(private readonly core: Core) {
    this.ids = new MessageIds(core.bus.nodeNumber);
  }

  /** The next message id (ids.ts): unique across nodes, increasing here. */
  newId(ts: number): string {
    return this.ids.next(ts);
  }

  async say(
    s: Session,
    roomName: string,
    text: string,
    sendKind: SendKind = 'say',
    tags?: Record<string, string>,
  ): Promise<MessageEvent> {
    const { core } = this;
    requireRegistered(s);
    const room = requireRoom(core, roomName);
    const member = room.has(s);
    const now = core.clock.now();
    if (!member && room.modes.noExternal && !s.oper) {
      throw new ChatError(ErrorCode.NoExternal, `You are not in ${room.name}`, room.name);
    }
    if (room.modes.moderated && !s.oper && !room.isOp(s) && !room.isVoiced(s)) {
      throw new ChatError(ErrorCode.Moderated, `${room.name} is moderated`, room.name);
    }
    if (isBanned(room, s, now) && !room.isOp(s) && !room.isVoiced(s) && !s.oper) {
      throw new ChatError(ErrorCode.Banned, `You are banned from ${room.name}`, room.name);
    }
    if (isMuted(room.mutes, s.name, now)) {
      throw new ChatError(ErrorCode.Moderated, `You are muted in ${room.name}`, room.name);
    }
    const { kind, clean, extra } = this.body(text, sendKind, tags);
    const keep = !extra.tagOnly && kind !== 'notice';
    if (keep) this.requireWritable();
    const event: MessageEvent = {
      type: 'message',
      id: this.ids.next(now),
      ts: now,
      room: room.name,
      from: s.actor(),
      text: clean,
      kind,
      origin: s.id,
      ...extra,
    };
    core.counters.messagesIn++;
    await core.emit(event, { rooms: [room.key] });
    if (keep) {
      await this.keep(s, {
        id: event.id,
        ts: now,
        room: room.name,
        from: s.name,
        mask: s.mask,
        text: clean,
        kind,
        ...(extra.tags ? { tags: extra.tags } : {}),
      });
    } else if (extra.tagOnly) {
      this.keepTagmsg(event, room.name, s.name, s.mask);
    }
    return event;
  }

  /**
   * A TAGMSG worth keeping (a reaction: event-history.ts) is kept as an event, for event
   * playback, never as a message.
   */
  private keepTagmsg(
    event: { id: string; ts: number; tags?: Record<string, string> },
    room: string,
    from: string,
    mask: string,
  ): void {
    if (!keepsTagmsg(event.tags) || !mayKeepEvents(this.core)) return;
    this.core.store.appendEvent?.({
      id: event.id,
      ts: event.ts,
      room,
      from,
      mask,
      detail: { kind: 'tag', tags: { ...event.tags } },
    });
  }

  async dm(
    s: Session,
    to: string,
    text: string,
    sendKind: SendKind = 'say',
    tags?: Record<string, string>,
  ): Promise<{ event: DirectEvent; target: PersonInfo }> {
    const { core } = this;
    requireRegistered(s);
    const target = await core.presence.lookup(to);
    if (!target) throw new ChatError(ErrorCode.NoSuchUser, `No one is called ${to}`, to);
    const { kind, clean, extra } = this.body(text, sendKind, tags);
    const key = keptAs(s, target);
    const keep = !extra.tagOnly && kind !== 'notice' && key !== null;
    if (keep) this.requireWritable();
    const ts = core.clock.now();
    const event: DirectEvent = {
      type: 'dm',
      id: this.ids.next(ts),
      ts,
      from: s.actor(),
      to: target.name,
      text: clean,
      kind,
      origin: s.id,
      ...extra,
    };
    core.counters.messagesIn++;
    await core.emit(event, { nodes: [nodeOf(target.origin), core.nodeId] });
    if (keep) {
      await this.keep(s, {
        id: event.id,
        ts,
        room: key as string,
        // Private history names people by account (what both sides share), a guest by
        // the name they had.
        from: s.account ?? s.name,
        mask: s.mask,
        text: clean,
        kind,
        ...(extra.tags ? { tags: extra.tags } : {}),
      });
    } else if (extra.tagOnly && key !== null) {
      this.keepTagmsg(event, key, s.account ?? s.name, s.mask);
    }
    return { event, target };
  }

  /**
   * What a message says, cleaned: its kind, its text (none for tags only: IRC TAGMSG) and
   * the client tags it carries. Throws when there is nothing to send.
   */
  private body(
    text: string,
    sendKind: SendKind,
    tags: Record<string, string> | undefined,
  ): {
    kind: MessageKind;
    clean: string;
    extra: { tags?: Record<string, string>; tagOnly?: true };
  } {
    const tagOnly = sendKind === 'tag';
    const clean = tagOnly ? '' : cleanText(text, this.core.options.maxMessageBytes);
    if (clean.length === 0 && !tagOnly) throw new ChatError(ErrorCode.TextEmpty, 'No text to send');
    const clientTags = checkClientTags(tags);
    return {
      kind: tagOnly ? 'say' : (sendKind as MessageKind),
      clean,
      extra: { ...(clientTags ? { tags: clientTags } : {}), ...(tagOnly ? { tagOnly } : {}) },
    };
  }

  /**
   * Hands a message to the store. With --ack-after-commit the caller's acknowledgement
   * waits for the commit: the sender's connection holds what it is sent from here on
   * until then (core/commit-order.ts), so its next requests are handled meanwhile and
   * their replies follow in order; a connection that cannot hold makes the caller wait.
   * Without it the acknowledgement follows at once and the store writes within its batch
   * interval (the crash window docs/operations.md describes).
   */
  private async keep(s: Session, entry: HistoryEntry): Promise<void> {
    const written = this.core.store.appendMessage(entry) as Promise<void> | void;
    if (!(written instanceof Promise)) return;
    if (!this.core.options.ackAfterCommit || s.conn.holdUntil?.(written) === true) {
      written.catch(() => {});
      return;
    }
    await written;
  }

  /** The store cannot take more: refuse rather than show what we cannot keep. */
  private requireWritable(): void {
    const store = this.core.store;
    if (!store.healthy()) {
      throw new ChatError(
        ErrorCode.StoreUnavailable,
        'History cannot be saved right now, so messages are refused; try again shortly',
      );
    }
    if (store.writable && !store.writable()) {
      throw new ChatError(
        ErrorCode.Flood,
        'The server is busy saving history; try again in a moment',
      );
    }
  }

  /** A notice from the server to everyone, one person, a room, or the operators. */
  async notice(text: string, opts: NoticeOptions = {}): Promise<void> {
    const { core } = this;
    let route: BusRoute = { everyone: true };
    if (opts.room !== undefined) route = { rooms: [fold(opts.room)] };
    else if (opts.to !== undefined) {
      const target = await core.presence.lookup(opts.to);
      const holder = target ? target.origin : await core.presence.holder(opts.to);
      if (!holder) return;
      route = { nodes: [nodeOf(holder)] };
    }
    await core.emit(
      {
        type: 'notice',
        ts: core.clock.now(),
        origin: core.nodeId,
        text: cleanText(text, core.options.maxMessageBytes),
        ...opts,
      },
      route,
    );
  }

  /** A room's history, for someone the access policy lets read it. */
  history(s: Session, room: string, limit: number, before?: string): Promise<HistoryEntry[]> {
    return this.historyPage(s, room, { limit, ...(before ? { before } : {}) });
  }

  /** A page of a room's history (bounds and end as HistoryQuery has them), access checked. */
  historyPage(s: Session, room: string, range: HistoryRange): Promise<HistoryEntry[]> {
    const { core } = this;
    checkRoom(room, core.options.roomNameLength);
    const r = requireReadable(s, core.rooms.get(room), room);
    return core.store.history({ ...range, room: r.name });
  }

  /**
   * The private conversation between `s`'s account and `peer` (a name online, an account,
   * or a guest it talked with), oldest first, at most `limit`, ending before `before`.
   */
  async directHistory(
    s: Session,
    peer: string,
    limit: number,
    before?: string,
  ): Promise<{ peer: string; entries: DirectHistoryEntry[] }> {
    const mine = s.account;
    const page = await this.directPage(s, peer, { limit, ...(before ? { before } : {}) });
    return {
      peer: page.peer,
      entries: page.entries.map((e) => ({
        id: e.id,
        ts: e.ts,
        from: e.from,
        to: fold(e.from) === fold(mine as string) ? page.peer : (mine as string),
        text: e.text,
        kind: e.kind,
      })),
    };
  }

  /**
   * A page of `s`'s account's private conversation with `peer`: with the account of that
   * name, and with guests who were called so (direct-keys.ts), as stored (`from` is an
   * account name, or the guest's). Only an identified person has private history.
   */
  async directPage(
    s: Session,
    peer: string,
    range: HistoryRange,
  ): Promise<{ peer: string; entries: HistoryEntry[] }> {
    const { peer: name, rooms } = await this.directKeys(s, peer);
    const pages = await Promise.all(
      rooms.map((room) => this.core.store.history({ ...range, room })),
    );
    return { peer: name, entries: mergePages(pages, range) };
  }

  /**
   * A page of the events kept (event-history.ts) of a room, for someone the access policy
   * lets read it: what event playback adds to historyPage.
   */
  eventPage(s: Session, room: string, range: HistoryRange): Promise<EventEntry[]> {
    const { core } = this;
    checkRoom(room, core.options.roomNameLength);
    const r = requireReadable(s, core.rooms.get(room), room);
    return core.store.events?.({ ...range, room: r.name }) ?? Promise.resolve([]);
  }

  /** directPage's events (the TAGMSGs kept), for event playback. */
  async directEventPage(s: Session, peer: string, range: HistoryRange): Promise<EventEntry[]> {
    const { store } = this.core;
    if (!store.events) return [];
    const { rooms } = await this.directKeys(s, peer);
    const pages = await Promise.all(rooms.map((room) => store.events?.({ ...range, room }) ?? []));
    return mergePages(pages, range);
  }

  /** Where `s`'s conversation with `peer` is kept (directPage), and the peer's name. */
  private async directKeys(s: Session, peer: string): Promise<{ peer: string; rooms: string[] }> {
    const { core } = this;
    requireRegistered(s);
    if (s.account === null) {
      throw new ChatError(
        ErrorCode.NotIdentified,
        'Private history is kept between accounts: /register or /identify first',
      );
    }
    // Not a name anyone can have (a service's, a room's): no one to have talked with.
    if (nameProblem(peer, core.options.nameLength) !== null) {
      throw new ChatError(ErrorCode.NoSuchUser, `No one is called ${peer}`, peer);
    }
    const online = await core.presence.lookup(peer);
    const account = online?.account ?? (await core.store.getAccount(peer))?.name ?? null;
    // What was said with `peer` as an account, and with guests who were called `peer`
    // (this account's alone to read, docs/protocol.md "Private history").
    const rooms = [guestDirectKey(s.account, peer)];
    if (account !== null) rooms.unshift(directKey(s.account, account));
    return { peer: account ?? online?.name ?? peer, rooms };
  }

  /**
   * The rooms `s` may read and the private conversations of their account that have
   * history, with the newest message of each in `after < ts < before` (IRCv3 CHATHISTORY
   * TARGETS), oldest newest message first, up to `limit` (conversations.ts). `direct`
   * names the other account.
   */
  conversations(s: Session, after: number, before: number, limit: number): Promise<Target[]> {
    requireRegistered(s);
    const rooms = [...s.rooms].filter((r) => mayRead(s, r)).map((r) => r.name);
    return listConversations(this.core, rooms, s.account, after, before, limit);
  }
}

/**
 * Where a private message between `s` and `target` is kept, or null when it is not: kept
 * when at least one side is an identified account, for that account (both, when both
 * are). Between two guests nothing is kept. A guest using the very name of the account
 * they write to is not kept either: the stored sender could not tell the two apart.
 */
function keptAs(s: Session, target: PersonInfo): string | null {
  if (s.account !== null && target.account !== null) return directKey(s.account, target.account);
  if (s.account !== null) {
    return fold(target.name) === fold(s.account) ? null : guestDirectKey(s.account, target.name);
  }
  if (target.account !== null) {
    return fold(s.name) === fold(target.account) ? null : guestDirectKey(target.account, s.name);
  }
  return null;
}

/** Which page of history to read: HistoryQuery without its room (the caller names it). */
export type HistoryRange = Omit<HistoryQuery, 'room'>;

/** True while `name` is muted (an expired mute is lifted). */
export function isMuted(mutes: Map<string, number | null>, name: string, now: number): boolean {
  const until = mutes.get(fold(name));
  if (until === undefined) return false;
  if (until !== null && until <= now) {
    mutes.delete(fold(name));
    return false;
  }
  return true;
}
