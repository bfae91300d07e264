/**
 * The wire types, straight from the server's schema (type-only: nothing of the server is
 * bundled), so the browser and the server cannot drift apart silently.
 */
import type { z } from 'zod';
import type {
  clientMessage,
  ServerMessage,
  WireMember,
  WireDirect,
  WireMessage,
  WireRoom,
} from '../../src/protocols/json/schema.js';

export type { ServerMessage, WireDirect, WireMember, WireMessage, WireRoom };

/** What the browser sends: the schema's input shape (defaults such as history.limit optional). */
export type ClientMessage = z.input<typeof clientMessage>;

export type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;
