/**
 * The WebSocket to the server, kept alive: requests with refs and promised replies, a
 * heartbeat that notices a dead link sooner than TCP would, and reconnection with backoff.
 * It reports its state honestly; the app decides what to show.
 */
import { backoffDelay } from './backoff.js';
import type { ClientMessage, ServerMessage } from './protocol.js';

export type ConnState =
  | { kind: 'idle' }
  | { kind: 'connecting'; attempt: number }
  | { kind: 'open' }
  | { kind: 'waiting'; attempt: number; retryAt: number; reason: string };

const HEARTBEAT_MS = 25_000;
const HEARTBEAT_TIMEOUT_MS = 10_000;
/** Replies that answer a request (and so carry its ref). */
const REPLIES = new Set([
  'ok',
  'error',
  'welcome',
  'joined',
  'who',
  'rooms',
  'history',
  'dm_history',
  'search',
  'pong',
  'marker',
  'markers',
]);

interface Pending {
  resolve(m: ServerMessage): void;
  reject(e: Error): void;
}

/** RFC 6455 §7.4.1 close codes, in the reader's words. */
function describeClose(code: number): string {
  switch (code) {
    case 1001:
      return 'the server went away';
    case 1006:
      return 'connection lost';
    case 1009:
      return 'message too large';
    case 1013:
      return 'server busy';
    default:
      return 'connection closed';
  }
}

export class ServerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class Connection {
  state: ConnState = { kind: 'idle' };
  onMessage: (m: ServerMessage) => void = () => {};
  onOpen: () => void = () => {};
  onState: (s: ConnState) => void = () => {};
  private ws: WebSocket | null = null;
  private attempt = 0;
  private retryTimer: number | undefined;
  private heartbeat: number | undefined;
  private nextRef = 1;
  private pending = new Map<string, Pending>();
  private lastClose = '';

  constructor(private readonly url: string) {}

  connect(): void {
    window.clearTimeout(this.retryTimer);
    if (this.ws) return;
    this.setState({ kind: 'connecting', attempt: this.attempt });
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.closed(`cannot connect: ${String(err)}`);
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.setState({ kind: 'open' });
      this.startHeartbeat();
      this.onOpen();
    };
    ws.onmessage = (e: MessageEvent) => {
      if (typeof e.data !== 'string') return;
      let m: ServerMessage;
      try {
        m = JSON.parse(e.data) as ServerMessage;
      } catch {
        return;
      }
      this.dispatch(m);
    };
    ws.onclose = (e: CloseEvent) => {
      if (this.ws !== ws) return;
      // A socket that never opened says nothing useful (1006 either way): the server is
      // down, restarting, or out of reach.
      if (!opened) this.closed('server unreachable');
      else this.closed(e.reason || this.lastClose || describeClose(e.code));
    };
  }

  /** Retry now instead of waiting out the backoff (a button, or the browser came online). */
  retryNow(): void {
    if (this.state.kind === 'waiting') this.connect();
  }

  send(message: ClientMessage): boolean {
    if (this.ws === null || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /** Sends with a fresh ref; resolves with the reply, rejects with the server's error. */
  request(message: ClientMessage): Promise<ServerMessage> {
    const ref = `r${this.nextRef++}`;
    return new Promise((resolve, reject) => {
      if (!this.send({ ...message, ref })) {
        reject(new ServerError('offline', 'Not connected'));
        return;
      }
      this.pending.set(ref, { resolve, reject });
    });
  }

  private dispatch(m: ServerMessage): void {
    const ref = 'ref' in m ? m.ref : undefined;
    if (ref !== undefined && REPLIES.has(m.type)) {
      const p = this.pending.get(String(ref));
      if (p) {
        this.pending.delete(String(ref));
        if (m.type === 'error') p.reject(new ServerError(m.code, m.message));
        else p.resolve(m);
      }
    }
    if (m.type === 'ping') this.send({ type: 'pong', ...(ref !== undefined ? { ref } : {}) });
    if (m.type === 'error' && m.code === 'closed') this.lastClose = m.message;
    this.onMessage(m);
  }

  private startHeartbeat(): void {
    window.clearInterval(this.heartbeat);
    this.heartbeat = window.setInterval(() => {
      const ws = this.ws;
      const timer = window.setTimeout(() => {
        // No pong: the link is dead even if the browser has not noticed (laptop lid,
        // lost Wi-Fi). Stop waiting for a close that may take minutes.
        if (this.ws === ws) {
          ws?.close();
          this.closed('no reply from the server');
        }
      }, HEARTBEAT_TIMEOUT_MS);
      this.request({ type: 'ping' }).then(
        () => window.clearTimeout(timer),
        () => window.clearTimeout(timer),
      );
    }, HEARTBEAT_MS);
  }

  private closed(reason: string): void {
    const ws = this.ws;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
    }
    this.ws = null;
    this.lastClose = '';
    window.clearInterval(this.heartbeat);
    for (const p of this.pending.values()) p.reject(new ServerError('offline', reason));
    this.pending.clear();
    const delay = backoffDelay(this.attempt);
    this.attempt++;
    this.setState({ kind: 'waiting', attempt: this.attempt, retryAt: Date.now() + delay, reason });
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }

  private setState(s: ConnState): void {
    this.state = s;
    this.onState(s);
  }
}
