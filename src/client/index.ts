/**
 * The client library's public API: what bots and other programs import.
 */
export { FramedClient, RequestError } from './framed-client.js';
export type { ConnectOptions, Reply, Request } from './framed-client.js';
export type { ServerMessage, WireMember, WireMessage, WireRoom } from '../protocols/json/schema.js';
export { encodeFrame, FrameDecoder } from '../protocols/framed/codec.js';
