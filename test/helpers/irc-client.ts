/**
 * A bare IRC client over a real socket for cross-protocol tests: registers, then collects
 * lines and waits for patterns (PINGs are answered so the server keeps us).
 */
import net from 'node:net';

export class RawIrcClient {
  readonly lines: string[] = [];
  private buffer = '';
  private waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  private cursor = 0;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let i;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, i).replace(/\r$/, '');
        this.buffer = this.buffer.slice(i + 1);
        if (line.startsWith('PING ')) this.send(`PONG ${line.slice(5)}`);
        this.lines.push(line);
      }
      this.check();
    });
    socket.on('error', () => {});
  }

  /** Connects without registering. */
  static async connect(port: number): Promise<RawIrcClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawIrcClient(socket);
  }

  static async register(port: number, nick: string): Promise<RawIrcClient> {
    const c = await RawIrcClient.connect(port);
    c.send(`NICK ${nick}`);
    c.send(`USER ${nick} 0 * :${nick}`);
    await c.expect(/ 001 /);
    return c;
  }

  /** Registers having asked for `caps` (space-separated) first. */
  static async withCaps(port: number, nick: string, caps: string): Promise<RawIrcClient> {
    const c = await RawIrcClient.connect(port);
    c.send(`CAP REQ :${caps}`);
    await c.expect(/ CAP \* ACK /);
    c.send(`NICK ${nick}`);
    c.send(`USER ${nick} 0 * :${nick}`);
    c.send('CAP END');
    await c.expect(/ 001 /);
    return c;
  }

  /** JOINs `room` and waits for the end of its NAMES (366). */
  async join(room: string): Promise<void> {
    this.send(`JOIN ${room}`);
    await this.expect(new RegExp(` 366 \\S+ ${room} `));
  }

  send(line: string): void {
    this.socket.write(line + '\r\n');
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => {
      for (let i = this.cursor; i < this.lines.length; i++) {
        if (w.re.test(this.lines[i] as string)) {
          this.cursor = i + 1;
          w.resolve(this.lines[i] as string);
          return false;
        }
      }
      return true;
    });
  }

  expect(re: RegExp, timeoutMs = 5000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${re}; got:\n${this.lines.join('\n')}`)),
        timeoutMs,
      );
      this.waiters.push({
        re,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      this.check();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
