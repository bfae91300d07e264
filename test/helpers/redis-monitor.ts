/**
 * What a redis-server executes, as MONITOR shows it (one line per command, those a Lua
 * script calls included): a test counts the commands some action cost.
 */
import net from 'node:net';

export class RedisMonitor {
  readonly lines: string[] = [];
  private buffer = '';

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8');
      let i;
      while ((i = this.buffer.indexOf('\r\n')) >= 0) {
        this.lines.push(this.buffer.slice(0, i));
        this.buffer = this.buffer.slice(i + 2);
      }
    });
    socket.on('error', () => {});
  }

  /** Starts monitoring; resolves once the server said OK. */
  static async start(port: number): Promise<RedisMonitor> {
    const socket = net.connect(port, '127.0.0.1');
    const m = new RedisMonitor(socket);
    socket.write('MONITOR\r\n');
    const deadline = Date.now() + 5000;
    while (!m.lines.includes('+OK')) {
      if (Date.now() > deadline) throw new Error('MONITOR did not answer');
      await new Promise((r) => setTimeout(r, 5));
    }
    return m;
  }

  /** Lines whose command is `verb` (as sent, e.g. "EVALSHA") with every one of `args`. */
  matching(verb: string, ...args: string[]): string[] {
    return this.lines.filter(
      (l) => l.includes(`] "${verb}" `) && args.every((a) => l.includes(`"${a}"`)),
    );
  }

  close(): void {
    this.socket.destroy();
  }
}
