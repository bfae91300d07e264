/**
 * The JSON messages of the framed protocol and of WebSocket: one schema, validated with
 * zod. Requests carry an optional client-chosen `ref` that the reply (or error) echoes.
 */
import { z } from 'zod';

const ref = z.union([z.string().max(64), z.number().int()]).optional();
const room = z.string().min(1).max(64);
const name = z.string().min(1).max(64);
const text = z.string().min(1).max(16_384);
/** Paging history backwards: ids are decimal strings, newest first. */
const page = {
  before: z
    .string()
    .regex(/^\d{1,20}$/)
    .optional(),
  limit: z.number().int().min(1).max(500).default(50),
};

export const clientMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    name,
    password: z.string().max(256).optional(),
    client: z.string().max(100).optional(),
    ref,
  }),
  z.object({ type: z.literal('join'), room, key: z.string().max(64).optional(), ref }),
  z.object({ type: z.literal('part'), room, reason: z.string().max(400).optional(), ref }),
  z.object({ type: z.literal('say'), room, text, ref }),
  z.object({ type: z.literal('me'), room, text, ref }),
  z.object({ type: z.literal('dm'), to: name, text, ref }),
  z.object({ type: z.literal('topic'), room, topic: z.string().max(1000).optional(), ref }),
  z.object({ type: z.literal('who'), room, ref }),
  z.object({ type: z.literal('rooms'), ref }),
  z.object({
    type: z.literal('history'),
    room,
    ...page,
    ref,
  }),
  z.object({
    type: z.literal('dm_history'),
    with: name,
    ...page,
    ref,
  }),
  z.object({ type: z.literal('nick'), name, ref }),
  z.object({ type: z.literal('away'), text: z.string().max(400).optional(), ref }),
  z.object({ type: z.literal('register'), password: z.string().min(1).max(256), ref }),
  z.object({
    type: z.literal('identify'),
    password: z.string().min(1).max(256),
    name: name.optional(),
    ref,
  }),
  z.object({
    type: z.literal('kick'),
    room,
    name,
    reason: z.string().max(400).optional(),
    ref,
  }),
  z.object({ type: z.literal('ping'), ref }),
  z.object({ type: z.literal('pong'), ref }),
  z.object({ type: z.literal('quit'), reason: z.string().max(400).optional(), ref }),
]);

export type ClientMessage = z.infer<typeof clientMessage>;
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

export interface WireMember {
  name: string;
  op: boolean;
  voice: boolean;
  away: boolean;
}

export interface WireRoom {
  name: string;
  topic: string;
  members: number;
}

/** Everything the server sends. `ref` is present on replies to a request that had one. */
export type ServerMessage =
  | { type: 'welcome'; name: string; address: string; server: string; rooms: WireRoom[]; ref?: Ref }
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
      ref?: Ref;
    }
  | { type: 'left'; ts: number; room: string; name: string; reason: string; by?: string }
  | { type: 'quit'; ts: number; name: string; reason: string; rooms: string[] }
  | { type: 'nick'; ts: number; old: string; name: string }
  | { type: 'topic'; ts: number; room: string; topic: string; by: string; ref?: Ref }
  | { type: 'mode'; ts: number; room: string; by: string; modes: string; params: string[] }
  | { type: 'away'; ts: number; name: string; message: string | null }
  | { type: 'notice'; ts: number; text: string; from?: string; room?: string }
  | { type: 'who'; room: string; members: WireMember[]; ref?: Ref }
  | { type: 'rooms'; rooms: WireRoom[]; ref?: Ref }
  | { type: 'history'; room: string; messages: WireMessage[]; ref?: Ref }
  | {
      type: 'dm_history';
      /** The other side's account name. */
      with: string;
      messages: WireDirect[];
      ref?: Ref;
    }
  | { type: 'ok'; ref?: Ref; id?: string }
  | { type: 'ping'; ref?: Ref }
  | { type: 'pong'; ref?: Ref }
  | { type: 'error'; code: string; message: string; ref?: Ref }
  | { type: 'shutdown'; reason: string };

export type Ref = string | number;

/** Error codes of the protocol itself (chat errors use the core's ErrorCode values). */
export const ProtocolError = {
  FrameTooLarge: 'frame_too_large',
  InvalidJson: 'invalid_json',
  InvalidMessage: 'invalid_message',
  NotWelcome: 'hello_first',
  Internal: 'internal',
} as const;
