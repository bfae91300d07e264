/**
 * WebSocket endpoint on an HTTP server: the `ws` library in noServer mode, so the HTTP
 * listener decides which upgrades reach it (path, Origin, admission) before any handshake.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Link } from '../core/ports.js';
import type { Linger } from './linger.js';
import { originAllowed } from './origin.js';
import { normalizeAddress } from './socket-link.js';
import type { ConnectionGate } from './tcp.js';
import { WsLink } from './ws-link.js';

export interface WebSocketOptions {
  /** Largest message accepted; bigger ones close the connection with 1009. */
  maxPayload: number;
  /**
   * Allowed Origins; empty: the page must come from this server (Origin host = Host, and
   * the Host a name the server is known by: see origin.ts).
   */
  origins: readonly string[];
  /** Names the server is known by besides IP literals and localhost (--public-host). */
  publicHosts: readonly string[];
  /** Keepalive: a ping every this many ms; no pong by the next round closes the link. */
  keepaliveMs: number;
  secure: boolean;
  /** Chat admission: a session counts there, not against the HTTP limits, until 'close'. */
  gate: ConnectionGate;
  linger: Linger;
  onLink(link: Link): void;
}

/** What the HTTP listener lends the endpoint for one upgrade. */
export interface UpgradeContext {
  /** Stops counting the socket against the HTTP limits (the chat gate counts it now). */
  handOver(): void;
}

export interface WebSocketEndpoint {
  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, ctx: UpgradeContext): void;
  /**
   * Stops keepalive and marks every session as going away: the hub's shutdown, which runs
   * next, ends them with 1001.
   */
  close(): void;
}

function reject(linger: Linger, socket: Socket, status: number, text: string, body: string): void {
  linger.end(
    socket,
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function createWebSocketEndpoint(opts: WebSocketOptions): WebSocketEndpoint {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxPayload,
    // Compression would cost a zlib context per connection and invites CRIME-style leaks.
    perMessageDeflate: false,
    clientTracking: false,
  });
  const links = new Set<WsLink>();

  // One timer for every connection rather than one each.
  const keepalive = setInterval(() => {
    for (const link of links) {
      if (!link.alive) {
        link.timeout();
        continue;
      }
      link.alive = false;
      link.ws.ping();
    }
  }, opts.keepaliveMs);
  keepalive.unref();

  return {
    handleUpgrade(req, socket, head, ctx) {
      socket.on('error', () => {}); // a reset during the handshake costs only this socket
      const { origin, host } = req.headers;
      if (!originAllowed(origin, host, opts.origins, opts.publicHosts)) {
        reject(opts.linger, socket, 403, 'Forbidden', 'WebSocket Origin not allowed\n');
        return;
      }
      const address = normalizeAddress(socket.remoteAddress);
      wss.handleUpgrade(req, socket, head, (ws) => {
        const link = new WsLink(ws, socket, address, opts.secure, opts.linger);
        const refused = opts.gate.admit(address);
        if (refused !== null) {
          // Complete the handshake first: a browser cannot read an HTTP refusal, but it
          // can read a message and a close reason. 1013 is "try again later". The socket
          // stays counted by the HTTP listener until it closes.
          ws.send(JSON.stringify({ type: 'error', code: 'refused', message: refused }));
          link.closeWith(1013, refused);
          return;
        }
        ctx.handOver();
        socket.once('close', () => opts.gate.release(address));
        links.add(link);
        link.onClose(() => links.delete(link));
        opts.onLink(link);
      });
      // ws refused the handshake itself (a bad key or version) with an HTTP error and
      // ends the socket, but destroys it only once the peer has read that.
      if (socket.writableEnded) opts.linger.arm(socket);
    },
    close() {
      clearInterval(keepalive);
      for (const link of links) link.goingAway();
      wss.close();
    },
  };
}
