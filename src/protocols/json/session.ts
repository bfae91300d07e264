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
import { ChatError, ErrorCode } from '../../core/errors.js';
import { TokenBucket } from '../../core/flood.js';
import type { Hub } from '../../core/hub.js';
import { InboundGate, type GateHooks } from '../../core/inbound-gate.js';
import { InOrder } from '../../core/in-order.js';
import type { Link } from '../../core/ports.js';
import type { Room } from '../../core/room.js';
import type { Session } from '../../core/session.js';
import { jsonEncoder } from './encoder.js';
import {
  clientMessage,
  ProtocolError,
  type ClientMessage,
  type Ref,
  type ServerMessage,
  type WireMember,
} from './schema.js';

export interface JsonTransport {
  /** Transport name, part of the encoding variant ('framed', 'ws'). */
  name: string;
  /** Wraps one JSON text for the wire. */
  frame(json: string): Buffer;
}

export function members(room: Room): WireMember[] {
  return [...room.members.keys()].map((s) => ({
    name: s.name,
    op: room.isOp(s),
    voice: room.isVoiced(s),
    away: s.away !== null,
  }));
}

export class JsonSession extends InOrder<ClientMessage> implements GateHooks<ClientMessage> {
  readonly session: Session;
  private readonly gate: InboundGate<ClientMessage>;

  constructor(
    private readonly hub: Hub,
    private readonly link: Link,
    readonly transport: JsonTransport,
  ) {
    super();
    this.session = hub.attach(link, jsonEncoder(transport));
    const o = hub.options;
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
    this.hub.send(this.session, this.transport.frame(JSON.stringify(message)));
  }

  private error(code: string, message: string, ref?: Ref): void {
    this.send({ type: 'error', code, message, ...(ref !== undefined ? { ref } : {}) });
  }

  /** One whole message from the transport. */
  receive(payload: Buffer | string): void {
    if (this.session.closed) return;
    let data: unknown;
    try {
      data = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
    } catch {
      this.error(ProtocolError.InvalidJson, 'Not valid JSON');
      return;
    }
    const parsed = clientMessage.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
      const ref = (data as { ref?: unknown } | null)?.ref;
      this.error(
        ProtocolError.InvalidMessage,
        `Invalid message${where}: ${issue?.message ?? 'unknown problem'}`,
        typeof ref === 'string' || typeof ref === 'number' ? ref : undefined,
      );
      return;
    }
    this.gate.push(parsed.data);
  }

  // ---- flood gate hooks --------------------------------------------------------------------

  pause(): void {
    this.link.pause();
  }

  resume(): void {
    this.link.resume();
  }

  onFlood(kind: 'delayed' | 'dropped', msg: ClientMessage): void {
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
      this.hub.log.error({ err, id: this.session.id }, 'json request failed');
      this.error(ProtocolError.Internal, 'Internal error', ref);
    }
  }

  private ok(ref: Ref | undefined, id?: string): void {
    this.send({ type: 'ok', ...(ref !== undefined ? { ref } : {}), ...(id ? { id } : {}) });
  }

  protected failed(err: unknown, msg: ClientMessage): void {
    this.fail(err, msg.ref);
  }

  protected handle(msg: ClientMessage): void | Promise<void> {
    const { hub, session } = this;
    hub.touch(session);
    const ref = msg.ref;
    if (!session.registered && msg.type !== 'hello' && msg.type !== 'ping' && msg.type !== 'quit') {
      this.error(ProtocolError.NotWelcome, 'Send hello {name} first', ref);
      return;
    }
    switch (msg.type) {
      case 'hello':
        return this.hello(msg);
      case 'join': {
        const existing = hub.room(msg.room);
        if (existing?.members.has(session)) hub.switchTo(session, existing.name);
        else hub.join(session, msg.room, msg.key);
        return this.joinedReply(msg.room, ref);
      }
      case 'part':
        hub.part(session, msg.room, msg.reason ?? '');
        return this.ok(ref);
      case 'say':
        return this.ok(ref, hub.say(session, msg.room, msg.text).id);
      case 'me':
        return this.ok(ref, hub.say(session, msg.room, msg.text, 'me').id);
      case 'dm':
        return this.ok(ref, hub.dm(session, msg.to, msg.text).id);
      case 'topic':
        if (msg.topic === undefined) {
          const room = hub.requireRoom(msg.room);
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
        hub.setTopic(session, msg.room, msg.topic);
        return this.ok(ref);
      case 'who': {
        const room = hub.requireRoom(msg.room);
        this.send({
          type: 'who',
          room: room.name,
          members: members(room),
          ...(ref !== undefined ? { ref } : {}),
        });
        return;
      }
      case 'rooms':
        this.send({
          type: 'rooms',
          rooms: hub
            .roomList()
            .filter((r) => !r.modes.secret || r.members.has(session))
            .map((r) => ({ name: r.name, topic: r.topic, members: r.members.size })),
          ...(ref !== undefined ? { ref } : {}),
        });
        return;
      case 'history':
        return this.history(msg.room, msg.limit, msg.before, ref);
      case 'dm_history':
        return hub.directHistory(session, msg.with, msg.limit, msg.before).then((h) =>
          this.send({
            type: 'dm_history',
            with: h.peer,
            messages: h.entries,
            ...(ref !== undefined ? { ref } : {}),
          }),
        );
      case 'nick':
        hub.setName(session, msg.name);
        return this.ok(ref);
      case 'away':
        hub.setAway(session, msg.text ? msg.text : null);
        return this.ok(ref);
      case 'register':
        return hub.accounts.register(session, msg.password).then(() => this.ok(ref));
      case 'identify':
        return hub.accounts.identify(session, msg.password, msg.name).then(() => this.ok(ref));
      case 'kick':
        hub.kick(session, msg.room, msg.name, msg.reason ?? '');
        return this.ok(ref);
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
    hub.setName(session, msg.name);
    hub.register(session);
    const { room } = hub.join(session, hub.options.defaultRoom);
    this.send({
      type: 'welcome',
      name: session.name,
      address: session.host,
      server: hub.options.serverName,
      rooms: [{ name: room.name, topic: room.topic, members: room.members.size }],
      ...(msg.ref !== undefined ? { ref: msg.ref } : {}),
    });
    for (const line of hub.options.motd)
      this.send({ type: 'notice', ts: hub.clock.now(), text: line });
    await this.joinedReply(room.name, undefined);
  }

  /** Tells the joiner the room's topic and members, then replays recent history. */
  private async joinedReply(roomName: string, ref: Ref | undefined): Promise<void> {
    const room = this.hub.requireRoom(roomName);
    this.send({
      type: 'joined',
      ts: this.hub.clock.now(),
      room: room.name,
      name: this.session.name,
      topic: room.topic,
      members: members(room),
      ...(ref !== undefined ? { ref } : {}),
    });
    const n = this.hub.options.historyOnJoin;
    if (n > 0) await this.history(room.name, n, undefined, undefined);
  }

  private async history(
    room: string,
    limit: number,
    before: string | undefined,
    ref: Ref | undefined,
  ): Promise<void> {
    const entries = await this.hub.history(room, limit, before);
    this.send({
      type: 'history',
      room: this.hub.room(room)?.name ?? room,
      messages: entries.map((e) => ({
        id: e.id,
        ts: e.ts,
        room: e.room,
        from: e.from,
        text: e.text,
        kind: e.kind,
      })),
      ...(ref !== undefined ? { ref } : {}),
    });
  }
}
