/**
 * A line-protocol test client over a real socket: collects lines and waits for patterns.
 */
import net from 'node:net';

export class LineClient {
  readonly lines: string[] = [];
  private buffer = '';
  private waiters: { re: RegExp; from: number; resolve: (line: string) => void }[] = [];
  closed = false;
  private closeWaiters: (() => void)[] = [];
  raw = Buffer.alloc(0);

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.raw = Buffer.concat([this.raw, chunk]);
      this.buffer += chunk.toString('utf8');
      let i;
      while ((i = this.buffer.search(/\r?\n|Choose a name: |Server password: /)) >= 0) {
        const m = /\r?\n|Choose a name: |Server password: /.exec(this.buffer) as RegExpExecArray;
        const line = m[0].includes('\n')
          ? this.buffer.slice(0, i)
          : this.buffer.slice(0, i + m[0].length);
        this.buffer = this.buffer.slice(i + m[0].length);
        this.lines.push(line);
        this.check();
      }
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.closeWaiters) w();
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Connects from another loopback address (127.0.0.2: someone else, as far as the server knows). */
  static connectFrom(port: number, localAddress: string): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () =>
        resolve(new LineClient(socket)),
      );
      socket.once('error', reject);
    });
  }

  /** Connects and chooses a name; resolves after the welcome line. */
  static async named(port: number, name: string): Promise<LineClient> {
    const c = await LineClient.connect(port);
    await c.expect(/Choose a name: /);
    c.send(name);
    await c.expect(/^\* Welcome, /);
    return c;
  }

  private cursor = 0;

  private check(): void {
    this.waiters = this.waiters.filter((w) => {
      for (let i = w.from; i < this.lines.length; i++) {
        const line = this.lines[i] as string;
        if (w.re.test(line)) {
          this.cursor = Math.max(this.cursor, i + 1);
          w.resolve(line);
          return false;
        }
      }
      return true;
    });
  }

  send(line: string): void {
    this.socket.write(line + '\n');
  }

  write(data: Buffer | string): void {
    this.socket.write(data);
  }

  /** Waits for the next line (after the last matched one) that matches `re`. */
  expect(re: RegExp, timeoutMs = 5000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${re}; got:\n${this.lines.join('\n')}`)),
        timeoutMs,
      );
      this.waiters.push({
        re,
        from: this.cursor,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      this.check();
    });
  }

  /** Lines received after the last matched one. */
  since(): string[] {
    return this.lines.slice(this.cursor);
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connection did not close')), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
