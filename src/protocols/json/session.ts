/**
 * The JSON session, shared by the framed TCP protocol and WebSocket. A transport hands it
 * one whole message at a time (`receive`) and says how to frame one JSON text for the wire
 * (`frame`): 4-byte length + bytes for framed, the bare text for a WebSocket text frame.
 *
 *   const session = new JsonSession(hub, link, { name: 'ws', frame: (json) => Buffer.from(json) });
 *   socket.on('message', (data) => session.receive(data));
 *
 * The session validates with the shared zod schema, calls the hub, and replies; events from
 * the hub are encoded once per transport (see jsonEncoder) and shared by every recipient.
 */
import { mayList, seesInvisible } from '../../core/access.js';
import { ChatError, ErrorCode } from '../../core/errors.js';
import type { HistoryEntry } from '../../core/events.js';
import { TokenBucket } from '../../core/flood.js';
import type { Hub } from '../../core/hub.js';
import { InboundGate, type GateHooks } from '../../core/inbound-gate.js';
import { orderedByCommits } from '../../core/commit-order.js';
import { InOrder } from '../../core/in-order.js';
import { fold } from '../../core/names.js';
import { search } from '../../core/search.js';
import type { MemberInfo } from '../../core/ports.js';
import type { Link } from '../../core/ports.js';
import { addressProof } from '../../core/resume.js';
import type { Session } from '../../core/session.js';
import { describeRename } from '../describe.js';
import { jsonEncoder } from './encoder.js';
import {
  clientSchema,
  ProtocolError,
  type ClientMessage,
  type ClientSchema,
  type Ref,
  type ServerMessage,
  type WireMember,
  type WireMessage,
} from './schema.js';

export interface JsonTransport {
  /** Transport name, part of the encoding variant ('framed', 'ws'). */
  name: string;
  /** Wraps one JSON text for the wire. */
  frame(json: string): Buffer;
}

function wireMessage(e: HistoryEntry): WireMessage {
  return { id: e.id, ts: e.ts, room: e.room, from: e.from, text: e.text, kind: e.kind };
}

function tokenField(token: string | null): { token?: string } {
  return token ? { token } : {};
}

export function wireMembers(members: MemberInfo[], all: boolean): WireMember[] {
  const out: WireMember[] = [];
  for (const m of members) {
    if (!all && m.person.invisible) continue;
    out.push({
      name: m.person.name,
      op: m.op,
      voice: m.voice,
      away: m.person.away !== null,
      ...(m.person.bot ? { bot: true as const } : {}),
    });
  }
  return out;
}

/**
 * A message refused before it could be handled: not JSON, or not a valid message. It goes
 * through flood control and waits its turn like any other, so it costs a sender what a
 * valid message costs (a flood of invalid frames is paused and dropped like a flood of
 * pings, instead of being parsed and answered as fast as it arrives) and its error is
 * answered in order with the replies before it.
 */
class Refused {
  constructor(
    readonly code: string,
    readonly message: string,
    readonly ref: Ref | undefined,
  ) {}
}

type Item = ClientMessage | Refused;

export class JsonSession extends InOrder<Item> implements GateHooks<Item> {
  readonly session: Session;
  /** Resume positions from the hello (token, `since`) by folded room: each join uses its own. */
  private readonly positions = new Map<string, string>();
  private readonly gate: InboundGate<Item>;
  private readonly schema: ClientSchema;

  constructor(
    private readonly hub: Hub,
    private readonly link: Link,
    readonly transport: JsonTransport,
  ) {
    super();
    // --ack-after-commit: an `ok` waits for its commit, and what follows it waits behind
    // it, while the next requests are handled (core/commit-order.ts).
    this.session = hub.attach(
      orderedByCommits(link, hub.options.ackAfterCommit),
      jsonEncoder(transport, (s) => hub.resume.token(s)),
    );
    // A held name goes back to its session's token, or to the address it came from
    // (a bot or a script that keeps no token: resume.ts).
    this.session.proof = addressProof(this.session.host);
    const o = hub.options;
    this.schema = clientSchema(o);
    this.gate = new InboundGate(
      new TokenBucket(o.floodBurst, o.floodRate, hub.clock),
      o.floodQueueLines,
      this,
    );
    link.onClose((reason) => {
      this.gate.close();
      hub.disconnect(this.session, reason);
    });
  }

  send(message: ServerMessage): void {
    this.session.send(this.transport.frame(JSON.stringify(message)));
  }

  private error(code: string, message: string, ref?: Ref): void {
    this.send({ type: 'error', code, message, ...(ref !== undefined ? { ref } : {}) });
  }

  /** One whole message from the transport. */
  receive(payload: Buffer | string): void {
    if (this.session.closed) return;
    this.gate.push(this.parse(payload));
  }

  private parse(payload: Buffer | string): Item {
    let data: unknown;
    try {
      data = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
    } catch {
      return new Refused(ProtocolError.InvalidJson, 'Not valid JSON', undefined);
    }
    const parsed = this.schema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
      const ref = (data as { ref?: unknown } | null)?.ref;
      return new Refused(
        ProtocolError.InvalidMessage,
        `Invalid message${where}: ${issue?.message ?? 'unknown problem'}`,
        (typeof ref === 'string' && ref.length <= 64) ||
          (typeof ref === 'number' && Number.isInteger(ref))
          ? ref
          : undefined,
      );
    }
    return parsed.data;
  }

  // ---- flood gate hooks --------------------------------------------------------------------

  pause(): void {
    this.link.pause();
  }

  resume(): void {
    this.link.resume();
  }

  protected stall(on: boolean): void {
    if (on) this.link.pause();
    else this.link.resume();
  }

  onFlood(kind: 'delayed' | 'dropped', msg: Item): void {
    if (kind === 'delayed') {
      this.hub.counters.floodDelayed++;
      this.error(
        ErrorCode.Flood,
        'Flood control: you are sending too fast; your messages are delayed',
        msg.ref,
      );
    } else {
      this.hub.counters.floodDropped++;
      this.error(ErrorCode.Flood, 'Flood control: message dropped', msg.ref);
    }
  }

  private fail(err: unknown, ref?: Ref): void {
    if (err instanceof ChatError) this.error(err.code, err.message, ref);
    else {
      this.hub.counters.handlerErrors++;
      this.hub.log.error({ err, id: this.session.id }, 'json request failed');
      this.error(ProtocolError.Internal, 'Internal error', ref);
    }
  }

  private ok(ref: Ref | undefined, id?: string): void {
    this.send({ type: 'ok', ...(ref !== undefined ? { ref } : {}), ...(id ? { id } : {}) });
  }

  protected failed(err: unknown, msg: Item): void {
    this.fail(err, msg.ref);
  }

  protected handle(msg: Item): void | Promise<void> {
    const { hub, session } = this;
    if (session.closed) return;
    if (msg instanceof Refused) {
      this.error(msg.code, msg.message, msg.ref);
      return;
    }
    hub.touch(session);
    const ref = msg.ref;
    if (!session.registered && msg.type !== 'hello' && msg.type !== 'ping' && msg.type !== 'quit') {
      this.error(ProtocolError.NotWelcome, 'Send hello {name} first', ref);
      return;
    }
    // Every reply below follows the events it answers: each awaits the operation, whose
    // promise settles once its event has been delivered here (`message` before `ok`).
    switch (msg.type) {
      case 'hello':
        return this.hello(msg);
      case 'join':
        return this.join(msg.room, msg.key, ref, msg.since);
      case 'resume':
        return this.resumeRooms(msg.rooms, ref);
      case 'part':
        return hub.part(session, msg.room, msg.reason ?? '').then(() => this.ok(ref));
      case 'say':
        return hub.messaging.say(session, msg.room, msg.text).then((e) => this.ok(ref, e.id));
      case 'me':
        return hub.messaging.say(session, msg.room, msg.text, 'me').then((e) => this.ok(ref, e.id));
      case 'dm':
        return hub.messaging.dm(session, msg.to, msg.text).then((r) => this.ok(ref, r.event.id));
      case 'topic':
        if (msg.topic === undefined) {
          const room = hub.room(msg.room);
          if (!room || !mayList(session, room)) {
            throw new ChatError(ErrorCode.NoSuchRoom, `No such room: ${msg.room}`, msg.room);
          }
          this.send({
            type: 'topic',
            ts: room.topicAt,
            room: room.name,
            topic: room.topic,
            by: room.topicBy,
            ...(ref !== undefined ? { ref } : {}),
          });
          return;
        }
        return hub.membership.setTopic(session, msg.room, msg.topic).then(() => this.ok(ref));
      case 'who':
        return this.who(msg.room, ref);
      case 'rooms':
        return this.rooms(ref);
      case 'history':
        return this.history(msg.room, msg.limit, msg.before, ref);
      case 'dm_history':
        return hub.messaging.directHistory(session, msg.with, msg.limit, msg.before).then((h) =>
          this.send({
            type: 'dm_history',
            with: h.peer,
            messages: h.entries,
            ...(ref !== undefined ? { ref } : {}),
          }),
        );
      case 'search':
        return this.search(msg, ref);
      case 'nick':
        return hub.setName(session, msg.name).then(() => this.ok(ref));
      case 'away':
        return hub.membership.setAway(session, msg.text ? msg.text : null).then(() => this.ok(ref));
      case 'register':
        return hub.accounts.register(session, msg.password).then(() => this.ok(ref));
      case 'identify':
        return hub.accounts.identify(session, msg.password, msg.name).then(() => this.ok(ref));
      case 'rename':
        return hub.rename(session, msg.room, msg.to, msg.reason ?? '').then(() => this.ok(ref));
      case 'kick':
        return hub.moderation
          .kick(session, msg.room, msg.name, msg.reason ?? '')
          .then(() => this.ok(ref));
      case 'markread':
        // The reply says the marker in effect (a later one stays); the account's other
        // connections hear of a change as a `marker` event.
        return hub.readMarkers.set(session, msg.room, msg.id).then(({ marker: m }) =>
          this.send({
            type: 'marker',
            room: m.target,
            id: m.id,
            ...(ref !== undefined ? { ref } : {}),
          }),
        );
      case 'markers':
        return hub.readMarkers.all(session).then((all) =>
          this.send({
            type: 'markers',
            markers: all.map((m) => ({ room: m.target, id: m.id })),
            ...(ref !== undefined ? { ref } : {}),
          }),
        );
      case 'ping':
        this.send({ type: 'pong', ...(ref !== undefined ? { ref } : {}) });
        return;
      case 'pong':
        return;
      case 'quit':
        this.ok(ref);
        this.gate.close();
        hub.disconnect(session, msg.reason ? `quit: ${msg.reason}` : 'quit');
        return;
    }
  }

  private async hello(msg: Extract<ClientMessage, { type: 'hello' }>): Promise<void> {
    const { hub, session } = this;
    if (session.registered)
      throw new ChatError(ErrorCode.BadRequest, `You are already ${session.name}`);
    const required = hub.options.password;
    if (required !== null && msg.password !== required) {
      this.error(ErrorCode.PermissionDenied, 'Wrong server password', msg.ref);
      this.gate.close();
      hub.disconnect(session, 'wrong password');
      return;
    }
    // A token proves the session that held a name: it gets the name back within its hold.
    let resumed: boolean | undefined;
    if (msg.token !== undefined) {
      const claims = await hub.resume.verify(msg.token);
      resumed = claims !== null;
      if (claims !== null) {
        session.proof = { session: claims.session, address: session.host };
        for (const [room, id] of Object.entries(claims.rooms)) this.positions.set(fold(room), id);
      }
    }
    for (const [room, id] of Object.entries(msg.since ?? {})) this.positions.set(fold(room), id);
    // With the account's password the name is taken back from whoever holds it.
    const account =
      msg.identify !== undefined
        ? await hub.accounts.takeName(session, msg.name, msg.identify)
        : null;
    if (account === null) {
      await this.takeBack(msg.name);
      await hub.setName(session, msg.name, true);
    }
    // Declared before registering, so the first events about this person say so.
    if (msg.bot) hub.sessions.setFlag(session, 'bot', true);
    await hub.register(session);
    if (account !== null) await hub.accounts.loggedIn(session, account);
    // The room's live messages wait until the welcome and the replay are out.
    session.holdLive(hub.options.sendQueueBytes);
    try {
      return await this.arrive(msg, resumed);
    } finally {
      session.releaseLive();
    }
  }

  /** The rest of a hello: the default room, the welcome, what was missed there. */
  private async arrive(
    msg: Extract<ClientMessage, { type: 'hello' }>,
    resumed: boolean | undefined,
  ): Promise<void> {
    const { hub, session } = this;
    let rooms: { name: string; topic: string; members: number }[] = [];
    let joined: string | null = null;
    try {
      const { room } = await hub.join(session, hub.options.defaultRoom, undefined, true);
      rooms = [{ name: room.name, topic: room.topic, members: room.size }];
      joined = room.name;
    } catch (err) {
      // Registered all the same: only a ban keeps someone out of the default room.
      if (!(err instanceof ChatError)) throw err;
      this.send({ type: 'notice', ts: hub.clock.now(), text: err.message });
    }
    this.send({
      type: 'welcome',
      name: session.name,
      address: session.host,
      server: hub.options.serverName,
      rooms,
      ...tokenField(hub.resume.token(session)),
      ...(resumed !== undefined ? { resumed } : {}),
      ...(msg.ref !== undefined ? { ref: msg.ref } : {}),
    });
    for (const line of hub.options.motd)
      this.send({ type: 'notice', ts: hub.clock.now(), text: line });
    hub.welcomed(session);
    if (joined) await this.joinedReply(joined, undefined);
  }

  /**
   * The session that held `name` may still be connected as far as the server knows (a
   * dropped network it has not noticed yet): its token's bearer replaces it.
   */
  private async takeBack(name: string): Promise<void> {
    const { hub, session } = this;
    const proof = session.proof?.session;
    if (proof === undefined) return;
    const holder = await hub.presence.holder(name);
    if (holder !== proof || holder === session.id) return;
    await hub.moderation.end(holder, 'reconnected');
    await hub.presence.claim(name, session.id, 'force');
  }

  private async join(
    name: string,
    key: string | undefined,
    ref: Ref | undefined,
    since?: string,
  ): Promise<void> {
    const { hub, session } = this;
    name = await this.renamedTo(name, since);
    const existing = hub.room(name);
    // The room's live messages follow its history (or replay), never come before it.
    session.holdLive(hub.options.sendQueueBytes);
    try {
      if (existing?.has(session)) hub.switchTo(session, existing.name);
      else await hub.join(session, name, key);
      await this.joinedReply(name, ref, since);
    } finally {
      session.releaseLive();
    }
  }

  /**
   * Tells the joiner the room's topic and members, then what it missed since its last
   * position (a resume), or else the recent history.
   */
  private async joinedReply(roomName: string, ref: Ref | undefined, since?: string): Promise<void> {
    const { hub, session } = this;
    const room = hub.requireRoom(roomName);
    const members = (await hub.presence.members(room.name)) ?? [];
    const marker = await hub.readMarkers.get(session, room.name);
    this.send({
      type: 'joined',
      ts: hub.clock.now(),
      room: room.name,
      name: session.name,
      topic: room.topic,
      members: wireMembers(members, true),
      ...(marker ? { marker: marker.id } : {}),
      ...(ref !== undefined ? { ref } : {}),
    });
    const after = since ?? this.positions.get(room.key);
    this.positions.delete(room.key);
    if (after !== undefined) return this.replay(room.name, after, undefined);
    const n = hub.options.historyOnJoin;
    // Up to where live delivery took over: a message said meanwhile is not shown twice.
    if (n <= 0) return;
    const entries = await hub.resume.beforeJoin(session, room.name, n);
    this.send({ type: 'history', room: room.name, messages: entries.map(wireMessage) });
  }

  /** What a room said after `after` (up to this session's join), as a `history` event. */
  private async replay(room: string, after: string, ref: Ref | undefined): Promise<void> {
    const r = await this.hub.resume.replay(this.session, room, after, this.hub.options.resumeLimit);
    this.send({
      type: 'history',
      room: r.room,
      messages: r.messages.map(wireMessage),
      after: r.after,
      missed: r.missed,
      ...(r.truncated ? { truncated: true } : {}),
      ...(ref !== undefined ? { ref } : {}),
    });
  }

  /**
   * A resuming client (a position for `name`, from its token or `since`) asks for a room
   * that was renamed while it was away: it is told (a `rename` message, as members heard
   * it) and led to the room under its new name, its position with it. Without a position
   * the same, within --rename-grace of the rename (rename.ts `redirect`); after it the
   * name is simply joined: a rename frees the old name for a new room.
   */
  private async renamedTo(name: string, since: string | undefined): Promise<string> {
    const { hub } = this;
    const position = since ?? this.positions.get(fold(name));
    if (hub.room(name)) return name;
    // Without a position, only within --rename-grace and for someone not in the room.
    const past =
      position === undefined
        ? await hub.renames.redirect(this.session, name)
        : await hub.renames.current(name);
    if (!past) return name;
    if (position !== undefined) {
      this.positions.delete(fold(name));
      if (since === undefined) this.positions.set(fold(past.to), position);
    }
    this.send({
      type: 'rename',
      ts: past.at,
      room: name,
      to: past.to,
      by: past.by,
      reason: past.reason,
      text: describeRename({
        room: name,
        newName: past.to,
        by: { name: past.by },
        reason: past.reason,
      }),
    });
    return past.to;
  }

  /** `resume {rooms}`: a replay for each room (a room it may not read gets its error). */
  private async resumeRooms(rooms: Record<string, string>, ref: Ref | undefined): Promise<void> {
    for (const [asked, after] of Object.entries(rooms)) {
      try {
        const room = this.hub.room(asked)
          ? asked
          : ((await this.hub.renames.current(asked))?.to ?? asked);
        await this.replay(room, after, undefined);
      } catch (err) {
        if (!(err instanceof ChatError)) throw err;
        this.error(err.code, err.message);
      }
    }
    this.ok(ref);
  }

  private async who(name: string, ref: Ref | undefined): Promise<void> {
    const { hub, session } = this;
    const room = hub.room(name);
    // The access policy (core/access.ts): a secret room is no room to outsiders.
    if (!room || !mayList(session, room)) {
      throw new ChatError(ErrorCode.NoSuchRoom, `No such room: ${name}`, name);
    }
    const members = (await hub.presence.members(room.name)) ?? [];
    this.send({
      type: 'who',
      room: room.name,
      members: wireMembers(members, seesInvisible(session, room)),
      ...(ref !== undefined ? { ref } : {}),
    });
  }

  private async rooms(ref: Ref | undefined): Promise<void> {
    const { hub, session } = this;
    const all = await hub.presence.rooms();
    this.send({
      type: 'rooms',
      rooms: all
        .filter((r) => {
          const local = hub.room(r.name);
          return local ? mayList(session, local) : !r.secret || session.oper;
        })
        .map((r) => ({ name: r.name, topic: r.topic, members: r.members })),
      ...(ref !== undefined ? { ref } : {}),
    });
  }

  private async search(
    msg: Extract<ClientMessage, { type: 'search' }>,
    ref: Ref | undefined,
  ): Promise<void> {
    const found = await search(this.hub, this.session, {
      text: msg.q,
      ...(msg.room !== undefined ? { room: msg.room } : {}),
      ...(msg.before !== undefined ? { before: msg.before } : {}),
      ...(msg.limit !== undefined ? { limit: msg.limit } : {}),
    });
    this.send({
      type: 'search',
      q: msg.q,
      terms: found.terms,
      ...(msg.room !== undefined ? { room: this.hub.room(msg.room)?.name ?? msg.room } : {}),
      messages: found.hits.map((h) => ({
        id: h.id,
        ts: h.ts,
        ...(h.room !== null ? { room: h.room } : {}),
        ...(h.with !== undefined ? { with: h.with } : {}),
        from: h.from,
        text: h.text,
        kind: h.kind,
      })),
      next: found.next,
      ...(ref !== undefined ? { ref } : {}),
    });
  }

  private async history(
    room: string,
    limit: number,
    before: string | undefined,
    ref: Ref | undefined,
  ): Promise<void> {
    const entries = await this.hub.messaging.history(this.session, room, limit, before);
    this.send({
      type: 'history',
      room: this.hub.room(room)?.name ?? room,
      messages: entries.map(wireMessage),
      ...(ref !== undefined ? { ref } : {}),
    });
  }
}
