/**
 * The HTTP listener (HTTPS when TLS is configured): the web client's files, WebSocket at
 * /ws, /healthz and /readyz, /metrics. It knows requests and sockets, not chat: health,
 * metrics and WebSocket sessions come in as callbacks from the composition root.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { RunningListener } from './tcp.js';
import { SECURITY_HEADERS, serveStatic } from './static-files.js';
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

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'Method not allowed\n', undefined, { Allow: 'GET, HEAD' });
      return;
    }
    switch (url.pathname) {
      case '/healthz':
        // Liveness: the event loop answers. `?ready` asks for readiness instead.
        if (url.searchParams.has('ready')) readiness(res);
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
    if (!serveStatic(opts.webRoot, req, res)) send(res, 404, 'Not found\n');
  };

  const server = opts.tls
    ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, handle)
    : http.createServer(handle);
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws') {
      socket.on('error', () => {});
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    ws.handleUpgrade(req, socket, head);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
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
