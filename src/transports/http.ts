/**
 * The HTTP listener (HTTPS when TLS is configured): the web client's files, WebSocket at
 * /ws, /healthz and /readyz, /metrics. It knows requests and sockets, not chat: health,
 * metrics and WebSocket sessions come in as callbacks from the composition root.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Admission } from '../core/admission.js';
import type { Linger } from './linger.js';
import type { RunningListener } from './tcp.js';
import { SECURITY_HEADERS, serveStatic } from './static-files.js';
import { parseTarget } from './request-target.js';
import { normalizeAddress } from './socket-link.js';
import { createWebSocketEndpoint, type WebSocketOptions } from './websocket.js';

/** How long HTTP clients get, in milliseconds (see docs/operations.md, "HTTP"). */
export interface HttpTimeouts {
  /** From connection (or the previous response) to the end of the request's headers. */
  headersMs: number;
  /** To the end of the whole request; also the longest a socket may sit idle mid-request or
   * not read a response (Node's socket timeout), which a slow reader would otherwise hold. */
  requestMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: number;
}

/**
 * Where a socket keeps the address it is counted under by the HTTP admission, or why it
 * was refused. On HTTPS the request's socket is the TLSSocket; the marks are on the raw
 * socket beneath it (`_parent`), which is what 'connection' gives us.
 */
const COUNTED = Symbol('plugboard.http.counted');
const REFUSED = Symbol('plugboard.http.refused');
type Marked = Duplex & {
  [COUNTED]?: string | undefined;
  [REFUSED]?: string;
  _parent?: Marked;
};

function rawSocket(socket: Duplex): Marked {
  const s = socket as Marked;
  return s._parent ?? s;
}

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
  websocket: Omit<WebSocketOptions, 'secure' | 'linger'>;
  /** HTTP connections per address and in all, counted until each socket closes. */
  admission: Admission;
  /** A connection over the HTTP limits (answered 503): log and count it. */
  onRefused(address: string, reason: string): void;
  linger: Linger;
  timeouts: HttpTimeouts;
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
  const { admission, linger } = opts;
  const ws = createWebSocketEndpoint({
    ...opts.websocket,
    secure: opts.tls !== undefined,
    linger,
  });

  function release(this: Marked): void {
    const address = this[COUNTED];
    this[COUNTED] = undefined;
    if (address !== undefined) admission.release(address);
  }

  /**
   * Every socket is counted from accept to 'close'. One over the limits is not dropped
   * silently: it may linger (bounded, linger.ts) to be answered 503 to its first request.
   */
  const onConnection = (socket: Marked): void => {
    const address = normalizeAddress((socket as Socket).remoteAddress);
    const refused = admission.admit(address);
    if (refused === null) {
      socket[COUNTED] = address;
      socket.on('close', release);
      return;
    }
    opts.onRefused(address, refused);
    socket[REFUSED] = refused;
    if (!linger.beginRefusal(socket)) socket.destroy();
  };

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
    const refused = rawSocket(req.socket)[REFUSED];
    if (refused !== undefined) {
      send(res, 503, `Too many connections: ${refused}\n`, undefined, {
        Connection: 'close',
        'Retry-After': '5',
      });
      return;
    }
    try {
      route(req, res);
    } catch (err) {
      opts.onHandlerError(err, 'http request');
      if (!res.headersSent) send(res, 500, 'Internal error\n');
      else res.destroy();
    }
  };

  const t = opts.timeouts;
  const serverOptions: http.ServerOptions = {
    headersTimeout: t.headersMs,
    requestTimeout: t.requestMs,
    keepAliveTimeout: t.keepAliveMs,
    // Node checks the two timeouts above this often (default 30 s: a slowloris client
    // would get up to 30 s more than it is given).
    connectionsCheckingInterval: Math.min(1000, t.headersMs),
  };
  const server = opts.tls
    ? https.createServer({ ...serverOptions, cert: opts.tls.cert, key: opts.tls.key }, handle)
    : http.createServer(serverOptions, handle);
  // A socket that stops reading a response (or goes quiet mid-request) is destroyed after
  // this much silence; WebSocket sockets turn it off (ws calls setTimeout(0)).
  server.timeout = t.requestMs;
  // Before Node's own listener, so that the count starts with the descriptor.
  server.prependListener('connection', onConnection);
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {}); // a reset during the handshake costs only this socket
    try {
      const refused = rawSocket(socket)[REFUSED];
      if (refused !== undefined) {
        linger.end(
          socket,
          `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n`,
        );
        return;
      }
      if (parseTarget(req.url)?.path !== '/ws') {
        linger.end(
          socket,
          'HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
        );
        return;
      }
      ws.handleUpgrade(req, socket, head, {
        handOver: () => release.call(rawSocket(socket)),
      });
    } catch (err) {
      opts.onHandlerError(err, 'websocket upgrade');
      socket.destroy();
    }
  });
  // A request Node's parser refuses (bad target, header overflow) gets a plain 400, as
  // Node's documentation suggests, rather than a silent reset; one that took too long
  // (headers or request timeout: slowloris) a 408. Then the socket lingers, never longer.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    linger.end(socket, `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
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
