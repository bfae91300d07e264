/**
 * The admin console: a Unix domain socket in the data directory, mode 0600, so only the
 * account running the server can use it. One command per line; every reply is a block of
 * lines ended by a line holding a single ".".
 */
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { runAdminCommand, type AdminContext } from '../admin/commands.js';

export interface AdminSocket {
  path: string;
  close(): Promise<void>;
}

export async function listenAdmin(path: string, ctx: AdminContext): Promise<AdminSocket> {
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
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const rl = createInterface({ input: socket, crlfDelay: Infinity });
    // Commands are asynchronous; replies go out in the order the commands came.
    let previous: Promise<void> = Promise.resolve();
    rl.on('line', (line) => {
      previous = previous.then(async () => {
        let out: string[];
        try {
          out = await runAdminCommand(ctx, line);
        } catch (err) {
          out = [`error: ${(err as Error).message}`];
        }
        socket.write(
          out.map((l) => (l === '.' ? '..' : l)).join('\n') + (out.length ? '\n' : '') + '.\n',
        );
      });
    });
  });
  const oldUmask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(oldUmask);
  }
  chmodSync(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
