/**
 * The admin console: a Unix domain socket in the data directory, mode 0600, so only the
 * account running the server can use it. One command per line; every reply is a block of
 * lines ended by a line holding a single ".".
 *
 * Lines are bounded (MAX_ADMIN_LINE): the socket is the operator's, but anything the
 * server buffers without end is a way to run it out of memory. A longer line gets an
 * error and the connection is closed; every close lingers (linger.ts) so a peer that
 * never closes does not keep its descriptor.
 */
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { Linger } from './linger.js';

/** Longest command line, in bytes, without its line end. */
export const MAX_ADMIN_LINE = 64 * 1024;

export interface AdminSocket {
  path: string;
  /** Connections closed for sending a line longer than MAX_ADMIN_LINE. */
  readonly linesTooLong: number;
  close(): Promise<void>;
}

export interface AdminSocketOptions {
  linger?: Linger;
  /** Listener errors (EMFILE at accept): the server must not die of them. */
  onError?(err: Error): void;
}

/**
 * Splits a byte stream into lines of at most `max` bytes (LF or CRLF), keeping only the
 * unfinished line. Returns null once a line is too long (the caller closes).
 */
export class BoundedLines {
  private parts: Buffer[] = [];
  private held = 0;

  constructor(private readonly max: number) {}

  push(chunk: Buffer): string[] | null {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      if (this.held + nl - start > this.max + 1) return null; // +1: a CR before the LF
      this.parts.push(chunk.subarray(start, nl));
      let line = Buffer.concat(this.parts).toString('utf8');
      if (line.endsWith('\r')) line = line.slice(0, -1);
      lines.push(line);
      this.parts = [];
      this.held = 0;
      start = nl + 1;
    }
    const rest = chunk.length - start;
    if (this.held + rest > this.max + 1) return null;
    if (rest > 0) {
      this.parts.push(chunk.subarray(start));
      this.held += rest;
    }
    return lines;
  }
}

/** What runs one command line: one process's hub, or a primary asking its workers. */
export type AdminRunner = (line: string) => Promise<string[]>;

export async function listenAdmin(
  path: string,
  run: AdminRunner,
  options: AdminSocketOptions = {},
): Promise<AdminSocket> {
  const linger = options.linger ?? new Linger();
  // A socket file left by a crashed server would make listen() fail with EADDRINUSE.
  if (existsSync(path)) {
    const alive = await new Promise<boolean>((resolve) => {
      const probe = net.connect(path, () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
    if (alive) throw new Error(`another server is using the admin socket ${path}`);
    unlinkSync(path);
  }
  const sockets = new Set<net.Socket>();
  let linesTooLong = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    // The peer half-closed: Node ends our side once the replies are out; if they never
    // get out (the peer does not read), the linger frees the socket.
    socket.on('end', () => linger.arm(socket));
    const lines = new BoundedLines(MAX_ADMIN_LINE);
    // Commands are asynchronous; replies go out in the order the commands came.
    let previous: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      const got = lines.push(chunk);
      if (got === null) {
        linesTooLong++;
        socket.removeAllListeners('data');
        const refusal = `error: line too long (at most ${MAX_ADMIN_LINE} bytes)\n.\n`;
        previous = previous.then(() => linger.end(socket, refusal));
        return;
      }
      for (const line of got) {
        previous = previous.then(async () => {
          let out: string[];
          try {
            out = await run(line);
          } catch (err) {
            out = [`error: ${(err as Error).message}`];
          }
          if (socket.writableEnded) return;
          socket.write(
            out.map((l) => (l === '.' ? '..' : l)).join('\n') + (out.length ? '\n' : '') + '.\n',
          );
        });
      }
    });
  });
  server.on('error', (err) => options.onError?.(err));
  const oldUmask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(oldUmask);
  }
  chmodSync(path, 0o600);
  return {
    path,
    get linesTooLong() {
      return linesTooLong;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
