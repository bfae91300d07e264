/**
 * The wire types, straight from the server's schema (type-only: nothing of the server is
 * bundled), so the browser and the server cannot drift apart silently.
 */
import type {
  ClientRequest,
  ServerMessage,
  WireMember,
  WireDirect,
  WireHit,
  WireMessage,
  WireRoom,
} from '../../src/protocols/json/schema.js';

export type { ServerMessage, WireDirect, WireHit, WireMember, WireMessage, WireRoom };

/** What the browser sends: the schema's input shape (defaults such as history.limit optional). */
export type ClientMessage = ClientRequest;

export type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;
