/**
 * The JSON messages of the framed protocol and of WebSocket: one schema, validated with
 * zod. Requests carry an optional client-chosen `ref` that the reply (or error) echoes.
 */
import { z } from 'zod';

import { MAX_TOKEN_LENGTH, type ServerOptions } from '../../core/options.js';
import type { RoomChange } from '../../core/room-changes.js';

const ref = z.union([z.string().max(64), z.number().int()]).optional();

/** Message ids are decimal 64-bit integers (core/ids.ts); a larger `before` is no id. */
const MAX_ID = 9223372036854775807n;
const DECIMAL_ID = /^\d{1,19}$/;
const messageId = z
  .string()
  .regex(DECIMAL_ID, 'a message id is a decimal number')
  // Zod runs a refinement even after the regex failed, and BigInt("abc") throws: only
  // digits may reach it (a thrown error would escape the schema as an uncaught exception).
  .refine(
    (v) => !DECIMAL_ID.test(v) || BigInt(v) <= MAX_ID,
    'a message id is at most 9223372036854775807',
  );

/**
 * The schema, with every bound taken from the server's options (core/options.ts): a
 * request the schema lets through is one the core's own limits can judge. Built once per
 * options object.
 */
function build(o: ServerOptions) {
  const room = z.string().min(1).max(o.roomNameLength);
  const name = z.string().min(1).max(o.nameLength);
  const text = z.string().min(1).max(o.maxMessageBytes);
  const reason = z.string().max(o.topicLength);
  const secret = z.string().min(1).max(256);
  /** Resume positions: the last message id seen, per room (names start with '#'). */
  const positions = z
    .record(room.startsWith('#', 'a room name starts with #'), messageId)
    .refine((r) => Object.keys(r).length <= o.maxRoomsPerUser, 'too many rooms');
  /** Paging history backwards: ids are decimal strings, newest first. */
  const page = {
    before: messageId.optional(),
    limit: z.number().int().min(1).max(o.historyPageMax).default(50),
  };
  return z.discriminatedUnion('type', [
    z.object({
      type: z.literal('hello'),
      name,
      /** The server's connection password (--password). */
      password: z.string().max(256).optional(),
      /** The account password of `name`: identifies, and takes the name back from a ghost. */
      identify: secret.optional(),
      client: z.string().max(100).optional(),
      /** A resume token from an earlier welcome or shutdown: the name back, and positions. */
      token: z.string().max(MAX_TOKEN_LENGTH).optional(),
      /** Last message id seen per room (over the token's): joins replay from there. */
      since: positions.optional(),
      /** This client is a bot (IRCv3 bot mode: IRC shows it in WHOIS, WHO and a `bot` tag). */
      bot: z.boolean().optional(),
      ref,
    }),
    z.object({
      type: z.literal('join'),
      room,
      key: z.string().max(64).optional(),
      /** The last message id seen in the room: the join replays what came after it. */
      since: messageId.optional(),
      ref,
    }),
    z.object({ type: z.literal('resume'), rooms: positions, ref }),
    z.object({ type: z.literal('part'), room, reason: reason.optional(), ref }),
    z.object({ type: z.literal('say'), room, text, ref }),
    z.object({ type: z.literal('me'), room, text, ref }),
    z.object({ type: z.literal('dm'), to: name, text, ref }),
    z.object({ type: z.literal('topic'), room, topic: reason.optional(), ref }),
    z.object({ type: z.literal('who'), room, ref }),
    z.object({ type: z.literal('rooms'), ref }),
    z.object({ type: z.literal('history'), room, ...page, ref }),
    z.object({ type: z.literal('dm_history'), with: name, ...page, ref }),
    z.object({
      type: z.literal('search'),
      /** The words to find (core/search-terms.ts judges them: a clear bad_query error). */
      q: z.string().max(o.searchQueryBytes * 4),
      room: room.optional(),
      before: messageId.optional(),
      limit: z.number().int().min(1).max(o.searchPageMax).optional(),
      ref,
    }),
    z.object({ type: z.literal('nick'), name, ref }),
    z.object({ type: z.literal('away'), text: reason.optional(), ref }),
    z.object({ type: z.literal('register'), password: secret, ref }),
    z.object({ type: z.literal('identify'), password: secret, name: name.optional(), ref }),
    z.object({ type: z.literal('kick'), room, name, reason: reason.optional(), ref }),
    /** Renames `room` to `to` (its operators, server operators): IRCv3 channel-rename. */
    z.object({ type: z.literal('rename'), room, to: room, reason: reason.optional(), ref }),
    /** Read markers: `room` is a room or, for a private conversation, the other's name. */
    z.object({
      type: z.literal('markread'),
      room: z.string().min(1).max(Math.max(o.roomNameLength, o.nameLength)),
      id: messageId,
      ref,
    }),
    z.object({ type: z.literal('markers'), ref }),
    z.object({ type: z.literal('ping'), ref }),
    z.object({ type: z.literal('pong'), ref }),
    z.object({ type: z.literal('quit'), reason: reason.optional(), ref }),
  ]);
}

export type ClientSchema = ReturnType<typeof build>;
const schemas = new WeakMap<ServerOptions, ClientSchema>();

export function clientSchema(options: ServerOptions): ClientSchema {
  let schema = schemas.get(options);
  if (!schema) {
    schema = build(options);
    schemas.set(options, schema);
  }
  return schema;
}

export type ClientMessage = z.infer<ClientSchema>;
/** A request as a client writes it (defaults not yet filled in). */
export type ClientRequest = z.input<ClientSchema>;
export type ClientType = ClientMessage['type'];

/** A stored or live chat message as clients see it. */
export interface WireMessage {
  id: string;
  ts: number;
  room: string;
  from: string;
  text: string;
  kind: 'say' | 'me' | 'notice';
}

/** A stored private message; `from` and `to` are account names. */
export interface WireDirect {
  id: string;
  ts: number;
  from: string;
  to: string;
  text: string;
  kind: 'say' | 'me' | 'notice';
}

/** A message a search found: in a room, or (`with`, no `room`) a private one of yours. */
export interface WireHit {
  id: string;
  ts: number;
  room?: string;
  /** A private message: the other side's account. */
  with?: string;
  from: string;
  text: string;
  kind: 'say' | 'me' | 'notice';
}

export interface WireMember {
  name: string;
  op: boolean;
  voice: boolean;
  away: boolean;
  /** A declared bot (only present when true). */
  bot?: true;
}

export interface WireRoom {
  name: string;
  topic: string;
  members: number;
}

/** Everything the server sends. `ref` is present on replies to a request that had one. */
export type ServerMessage =
  | {
      type: 'welcome';
      name: string;
      address: string;
      server: string;
      rooms: WireRoom[];
      /** Give it back in the next `hello` (opaque; a new one comes with every welcome). */
      token?: string;
      /** Present when the hello carried a token: whether it was accepted. */
      resumed?: boolean;
      ref?: Ref;
    }
  | ({ type: 'message' } & WireMessage)
  | { type: 'dm'; id: string; ts: number; from: string; to: string; text: string; kind: string }
  | {
      type: 'joined';
      ts: number;
      room: string;
      name: string;
      /** On the reply to your own join: the room's topic and members. */
      topic?: string;
      members?: WireMember[];
      /** On the reply to your own join: your read marker in the room, if you set one. */
      marker?: string;
      ref?: Ref;
    }
  | { type: 'left'; ts: number; room: string; name: string; reason: string; by?: string }
  | { type: 'quit'; ts: number; name: string; reason: string; rooms: string[] }
  | { type: 'nick'; ts: number; old: string; name: string }
  | { type: 'topic'; ts: number; room: string; topic: string; by: string; ref?: Ref }
  /** A room you are in took a new name `to`: everything of `room` is now under it. */
  | {
      type: 'rename';
      ts: number;
      room: string;
      to: string;
      by: string;
      reason: string;
      text: string;
    }
  | {
      type: 'mode';
      ts: number;
      room: string;
      by: string;
      /** IRC letters of the changes that have one ("+o-v"), and their parameters. */
      modes: string;
      params: string[];
      /** Every change, typed. */
      changes: RoomChange[];
      /** The changes in words. */
      text: string;
    }
  | { type: 'away'; ts: number; name: string; message: string | null }
  | { type: 'notice'; ts: number; text: string; from?: string; room?: string }
  | { type: 'who'; room: string; members: WireMember[]; ref?: Ref }
  | { type: 'rooms'; rooms: WireRoom[]; ref?: Ref }
  | {
      type: 'history';
      room: string;
      messages: WireMessage[];
      /** A resume replay: what came after this id (otherwise a page of recent history). */
      after?: string;
      /** Replay: how many messages were missed (more than `messages` holds: a gap). */
      missed?: number;
      /** Replay: the position is older than what the server keeps; more may be missing. */
      truncated?: boolean;
      ref?: Ref;
    }
  | {
      type: 'dm_history';
      /** The other side's account name. */
      with: string;
      messages: WireDirect[];
      ref?: Ref;
    }
  | {
      type: 'search';
      /** The search as asked, and the words looked for. */
      q: string;
      terms: string[];
      room?: string;
      /** Newest first. */
      messages: WireHit[];
      /** The `before` of the next (older) page; null when there is none. */
      next: string | null;
      ref?: Ref;
    }
  | { type: 'ok'; ref?: Ref; id?: string }
  | { type: 'ping'; ref?: Ref }
  | { type: 'pong'; ref?: Ref }
  | { type: 'error'; code: string; message: string; ref?: Ref }
  | {
      type: 'shutdown';
      reason: string;
      /** This session's resume token: give it back in `hello` after the restart. */
      token?: string;
    }
  /** A read marker (yours, set on any connection), and the reply to `markers`. */
  | { type: 'marker'; room: string; id: string; ref?: Ref }
  | { type: 'markers'; markers: { room: string; id: string }[]; ref?: Ref };

export type Ref = string | number;

/** Error codes of the protocol itself (chat errors use the core's ErrorCode values). */
export const ProtocolError = {
  FrameTooLarge: 'frame_too_large',
  InvalidJson: 'invalid_json',
  InvalidMessage: 'invalid_message',
  NotWelcome: 'hello_first',
  Internal: 'internal',
} as const;
