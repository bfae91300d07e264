/**
 * A WebSocket connection: one text message is one JSON message of the shared schema
 * (src/protocols/json/schema.ts), so the browser speaks exactly what the framed protocol
 * speaks, minus the length prefix that WebSocket framing already provides.
 */
import type { Hub } from '../../core/hub.js';
import type { Link } from '../../core/ports.js';
import { JsonSession } from '../json/session.js';

const transport = { name: 'ws', frame: (json: string): Buffer => Buffer.from(json) };

export function serveWs(hub: Hub, link: Link): JsonSession {
  const json = new JsonSession(hub, link, transport);
  link.onData((message) => json.receive(message));
  return json;
}
