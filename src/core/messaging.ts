/**
 * Saying things: room messages, private messages, server notices, and reading history.
 * Text passes the one cleaning rule (text.ts) here, whatever protocol it came from.
 */
import { isBanned, mayRead, requireReadable } from './access.js';
import type { Core } from './context.js';
import { ChatError, ErrorCode } from './errors.js';
import type {
  Actor,
  DirectEvent,
  DirectHistoryEntry,
  HistoryEntry,
  MessageEvent,
  MessageKind,
  SendKind,
} from './events.js';
import { MessageIds } from './ids.js';
import { requireRegistered, requireRoom } from './membership.js';
import { checkRoom, fold } from './names.js';
import type { BusRoute, HistoryQuery, PersonInfo } from './ports.js';
import type { Session } from './session.js';
import { cleanText } from './text.js';
import { checkClientTags } from './tags.js';
import { nodeOf } from './ids.js';

export interface NoticeOptions {
  to?: string;
  room?: string;
  opersOnly?: boolean;
  wallops?: boolean;
  from?: Actor;
}

/**
 * Where a private conversation is kept: the history of a room no one can join, named by
 * both accounts in a fixed order (names cannot hold spaces; room names start with #).
 */
export function directKey(a: string, b: string): string {
  const [x, y] = [fold(a), fold(b)].sort();
  return `@${x} ${y}`;
}

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
      await this.keep({
        id: event.id,
        ts: now,
        room: room.name,
        from: s.name,
        mask: s.mask,
        text: clean,
        kind,
      });
    }
    return event;
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
    // Kept only between two identified accounts: a conversation needs a stable name on
    // both sides to be found again (a guest's name is anyone's after they leave).
    const keep =
      !extra.tagOnly && kind !== 'notice' && s.account !== null && target.account !== null;
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
      await this.keep({
        id: event.id,
        ts,
        room: directKey(s.account as string, target.account as string),
        // Private history names people by account: that is what both sides share.
        from: s.account as string,
        mask: s.mask,
        text: clean,
        kind,
      });
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
   * waits for the commit; otherwise it follows at once and the store writes within its
   * batch interval (the crash window docs/operations.md describes).
   */
  private async keep(entry: HistoryEntry): Promise<void> {
    const written = this.core.store.appendMessage(entry) as Promise<void> | void;
    if (this.core.options.ackAfterCommit && written instanceof Promise) await written;
    else if (written instanceof Promise) written.catch(() => {});
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
   * The private conversation between `s`'s account and `peer` (a name online, or an
   * account), oldest first, at most `limit`, ending before `before`.
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
   * A page of the private conversation between `s`'s account and `peer`'s, as stored
   * (`from` is an account name). Only an identified person has private history.
   */
  async directPage(
    s: Session,
    peer: string,
    range: HistoryRange,
  ): Promise<{ peer: string; entries: HistoryEntry[] }> {
    const { core } = this;
    requireRegistered(s);
    if (s.account === null) {
      throw new ChatError(
        ErrorCode.NotIdentified,
        'Private history is kept between accounts: /register or /identify first',
      );
    }
    const online = await core.presence.lookup(peer);
    const account = online?.account ?? (await core.store.getAccount(peer))?.name ?? null;
    if (account === null) {
      throw new ChatError(ErrorCode.NoSuchUser, `No account is called ${peer}`, peer);
    }
    const entries = await core.store.history({ ...range, room: directKey(s.account, account) });
    return { peer: account, entries };
  }

  /**
   * The rooms `s` may read and the private conversations of their account that have
   * history, with the newest message of each in `after < ts < before` (IRCv3 CHATHISTORY
   * TARGETS), oldest newest message first. `direct` names the other account.
   */
  async conversations(
    s: Session,
    after: number,
    before: number,
    limit: number,
  ): Promise<{ target: string; direct: boolean; id: string; ts: number }[]> {
    const { core } = this;
    requireRegistered(s);
    const rooms = [...s.rooms].filter((r) => mayRead(s, r)).map((r) => r.name);
    const found = await core.store.conversations({
      rooms,
      ...(s.account !== null ? { account: s.account } : {}),
      after,
      before,
      limit,
    });
    const mine = s.account === null ? '' : fold(s.account);
    const out: { target: string; direct: boolean; id: string; ts: number }[] = [];
    for (const c of found) {
      if (!c.room.startsWith('@')) {
        out.push({
          target: core.rooms.get(c.room)?.name ?? c.room,
          direct: false,
          id: c.id,
          ts: c.ts,
        });
        continue;
      }
      // `@a b`, folded: the other one is the peer (oneself, for notes to self).
      const [a, b] = c.room.slice(1).split(' ') as [string, string];
      const other = a === mine ? b : a;
      const name = (await core.store.getAccount(other))?.name ?? other;
      out.push({ target: name, direct: true, id: c.id, ts: c.ts });
    }
    return out;
  }
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
