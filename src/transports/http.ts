/**
 * The HTTP listener (HTTPS when TLS is configured): the web client's files, WebSocket at
 * /ws, /healthz and /readyz, /metrics. It knows requests and sockets, not chat: health,
 * metrics and WebSocket sessions come in as callbacks from the composition root.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RunningListener } from './tcp.js';
import { SECURITY_HEADERS, serveStatic } from './static-files.js';
import { parseTarget } from './request-target.js';
import { createWebSocketEndpoint, type WebSocketOptions } from './websocket.js';

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
}

export interface HttpListenerOptions {
  name: string;
  host: string;
  port: number;
  backlog: number;
  tls?: { cert: Buffer; key: Buffer };
  /** Directory of the built web client. */
  webRoot: string;
  websocket: Omit<WebSocketOptions, 'secure'>;
  readiness(): Readiness;
  metrics(): Promise<{ contentType: string; body: string }>;
  onError(err: Error): void;
  /** A handler threw for one request: log and count it (the request has been answered). */
  onHandlerError(err: unknown, where: string): void;
}

function send(
  res: http.ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export async function listenHttp(opts: HttpListenerOptions): Promise<RunningListener> {
  const ws = createWebSocketEndpoint({ ...opts.websocket, secure: opts.tls !== undefined });

  const readiness = (res: http.ServerResponse): void => {
    const r = opts.readiness();
    send(
      res,
      r.ready ? 200 : 503,
      JSON.stringify({ status: r.ready ? 'ready' : 'not ready', ...r.checks }) + '\n',
      'application/json; charset=utf-8',
    );
  };

  const route = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = parseTarget(req.url);
    if (url === null) {
      send(res, 400, 'Bad request target\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'Method not allowed\n', undefined, { Allow: 'GET, HEAD' });
      return;
    }
    switch (url.path) {
      case '/healthz':
        // Liveness: the event loop answers. `?ready` asks for readiness instead.
        if (url.query.has('ready')) readiness(res);
        else send(res, 200, '{"status":"ok"}\n', 'application/json; charset=utf-8');
        return;
      case '/readyz':
        readiness(res);
        return;
      case '/metrics':
        opts.metrics().then(
          (m) => send(res, 200, m.body, m.contentType),
          (err: unknown) => {
            opts.onError(err as Error);
            send(res, 500, 'metrics unavailable\n');
          },
        );
        return;
      case '/ws':
        send(res, 426, 'This is a WebSocket endpoint\n', undefined, { Upgrade: 'websocket' });
        return;
    }
    if (!serveStatic(opts.webRoot, url.path, req, res)) send(res, 404, 'Not found\n');
  };

  // The last guard of this listener: whatever a request makes a handler throw costs that
  // request (500, or the socket), is logged and counted, and never reaches the process.
  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    try {
      route(req, res);
    } catch (err) {
      opts.onHandlerError(err, 'http request');
      if (!res.headersSent) send(res, 500, 'Internal error\n');
      else res.destroy();
    }
  };

  const server = opts.tls
    ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, handle)
    : http.createServer(handle);
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {}); // a reset during the handshake costs only this socket
    try {
      if (parseTarget(req.url)?.path !== '/ws') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      ws.handleUpgrade(req, socket, head);
    } catch (err) {
      opts.onHandlerError(err, 'websocket upgrade');
      socket.destroy();
    }
  });
  // A request Node's parser refuses (bad target, header overflow) gets a plain 400, as
  // Node's documentation suggests, rather than a silent reset.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  if (opts.tls) server.on('tlsClientError', () => {});
  server.on('error', opts.onError);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port, backlog: opts.backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    name: opts.name,
    host: opts.host,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        ws.close();
        server.close(() => resolve());
        // Idle keep-alive connections would hold close() open; WebSocket sessions are
        // closed by the hub's shutdown, which runs alongside.
        server.closeIdleConnections();
      }),
  };
}
