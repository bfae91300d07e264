/**
 * `plugboard admin [--data-dir DIR | --socket PATH] [COMMAND...]`: talks to the admin
 * socket. With a command it runs it and exits; without, it is an interactive console.
 */
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const HELP = `Usage: plugboard admin [--data-dir DIR] [--socket PATH] [COMMAND ...]

Connects to the admin socket of a running server (DIR/admin.sock, default ./data).
Commands: stats, who, kick NAME [REASON], say TEXT, shutdown [REASON], help, and more.
Without a command, reads commands interactively.
`;

export async function adminMain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string', default: process.env.PLUGBOARD_DATA_DIR ?? './data' },
      socket: { type: 'string' },
      help: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const path = values.socket ?? join(values['data-dir'] as string, 'admin.sock');
  const socket = net.connect(path);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
  } catch (err) {
    process.stderr.write(
      `Unable to connect to the admin socket ${path}: ${(err as Error).message}\n`,
    );
    return 1;
  }
  const replies = createInterface({ input: socket, crlfDelay: Infinity });
  const pending: ((lines: string[]) => void)[] = [];
  let block: string[] = [];
  replies.on('line', (line) => {
    if (line === '.') {
      pending.shift()?.(block);
      block = [];
    } else block.push(line.startsWith('..') ? line.slice(1) : line);
  });
  const run = (command: string) =>
    new Promise<string[]>((resolve) => {
      pending.push(resolve);
      socket.write(command + '\n');
    });

  if (positionals.length > 0) {
    for (const line of await run(positionals.join(' '))) process.stdout.write(line + '\n');
    socket.end();
    return 0;
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'admin> ' });
  socket.on('close', () => {
    process.stdout.write('\nserver closed the admin connection\n');
    rl.close();
  });
  rl.prompt();
  for await (const line of rl) {
    if (line.trim() === 'quit' || line.trim() === 'exit') break;
    for (const out of await run(line)) process.stdout.write(out + '\n');
    rl.prompt();
  }
  socket.end();
  return 0;
}
