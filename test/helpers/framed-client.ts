/**
 * A raw framed-protocol test client: sends objects (or raw bytes), collects messages.
 */
import net from 'node:net';
import { encodeFrame, FrameDecoder } from '../../src/protocols/framed/codec.js';

export type Msg = Record<string, unknown> & { type: string };

export class RawFramedClient {
  readonly messages: Msg[] = [];
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  private cursor = 0;
  closed = false;
  private closeWaiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    const decoder = new FrameDecoder(1 << 24);
    socket.on('data', (chunk: Buffer) => {
      for (const item of decoder.push(chunk)) {
        if (item.kind !== 'frame') continue;
        this.messages.push(JSON.parse(item.payload.toString('utf8')) as Msg);
        this.check();
      }
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.closeWaiters) w();
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<RawFramedClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawFramedClient(s)));
      s.once('error', reject);
    });
  }

  /** Connects from another loopback address (127.0.0.2: someone else, as far as the server knows). */
  static connectFrom(port: number, localAddress: string): Promise<RawFramedClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress }, () =>
        resolve(new RawFramedClient(s)),
      );
      s.once('error', reject);
    });
  }

  static async hello(port: number, name: string): Promise<RawFramedClient> {
    const c = await RawFramedClient.connect(port);
    c.send({ type: 'hello', name });
    await c.expect((m) => m.type === 'welcome');
    await c.expect((m) => m.type === 'history');
    return c;
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => {
      for (let i = this.cursor; i < this.messages.length; i++) {
        if (w.pred(this.messages[i] as Msg)) {
          this.cursor = i + 1;
          w.resolve(this.messages[i] as Msg);
          return false;
        }
      }
      return true;
    });
  }

  send(obj: object): void {
    this.socket.write(encodeFrame(JSON.stringify(obj)));
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  expect(pred: (m: Msg) => boolean, timeoutMs = 5000): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out; got ${JSON.stringify(this.messages.slice(-10))}`)),
        timeoutMs,
      );
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      this.check();
    });
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('not closed')), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
