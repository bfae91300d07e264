/**
 * A WebSocket test client (the `ws` library) speaking the JSON protocol: collects messages
 * and waits for one that matches.
 */
import WebSocket from 'ws';

export type Msg = Record<string, unknown> & { type: string };

export class WsClient {
  readonly messages: Msg[] = [];
  private cursor = 0;
  private waiters: { test: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.messages.push(JSON.parse(data.toString('utf8')) as Msg);
      this.check();
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      ws.on('close', (code: number, reason: Buffer) =>
        resolve({ code, reason: reason.toString() }),
      ),
    );
  }

  static open(port: number, options: WebSocket.ClientOptions = {}): Promise<WsClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, options);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  /** Opens and says hello; resolves after the welcome and the default room's join reply. */
  static async hello(port: number, name: string): Promise<WsClient> {
    const c = await WsClient.open(port);
    c.send({ type: 'hello', name });
    await c.expect((m) => m.type === 'welcome');
    await c.expect((m) => m.type === 'joined' && m.name === name);
    return c;
  }

  send(message: object): void {
    this.ws.send(JSON.stringify(message));
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => {
      for (let i = this.cursor; i < this.messages.length; i++) {
        const m = this.messages[i] as Msg;
        if (w.test(m)) {
          this.cursor = i + 1;
          w.resolve(m);
          return false;
        }
      }
      return true;
    });
  }

  expect(test: (m: Msg) => boolean, timeoutMs = 5000): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`timed out; got:\n${this.messages.map((m) => JSON.stringify(m)).join('\n')}`),
          ),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      this.check();
    });
  }

  close(): void {
    this.ws.terminate();
  }
}
