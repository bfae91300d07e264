/**
 * `plugboard connect [HOST[:PORT]] --name NAME`: the terminal client's command line. The
 * session itself (keyboard, socket, reconnects) is in terminal-session.ts.
 */
import { parseArgs } from 'node:util';
import { commandNames } from './commands.js';
import { TerminalSession } from './terminal-session.js';

const HELP = `Usage: plugboard connect [HOST[:PORT]] --name NAME [options]

Connects to a Plugboard server's framed protocol (default 127.0.0.1:8009).

Options:
  --name NAME        the name to use (required)
  --password SECRET  server connection password
  --timeout MS       connect timeout, up to the server's welcome (default 2000)
  --no-color         no colours (also off when stdout is not a terminal)
  --no-reconnect     exit when the server goes away instead of reconnecting
  --log FILE         append a transcript of everything received
  --json             pipe mode: print raw events as JSON lines
  --once             pipe mode: exit once every line sent was acknowledged
  --help             show this help

Commands: ${commandNames.join(' ')}
Without a terminal (a pipe) each stdin line is sent and each event printed as a line.
`;

/** HOST, HOST:PORT or [IPv6]:PORT. */
export function parseTarget(target: string | undefined): { host: string; port: number } {
  if (!target) return { host: '127.0.0.1', port: 8009 };
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(target);
  const port = m?.[3] ? Number(m[3]) : 8009;
  if (!m || port < 1 || port > 65535) throw new Error(`Cannot read HOST[:PORT] from "${target}"`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

export async function connectMain(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        password: { type: 'string' },
        timeout: { type: 'string', default: '2000' },
        'no-color': { type: 'boolean', default: false },
        'no-reconnect': { type: 'boolean', default: false },
        log: { type: 'string' },
        json: { type: 'boolean', default: false },
        once: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`plugboard connect: ${(err as Error).message}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const timeoutMs = Number(values.timeout);
  if (!values.name || !Number.isInteger(timeoutMs) || timeoutMs < 1) {
    process.stderr.write('plugboard connect: --name NAME is required; --timeout is in ms\n');
    return 2;
  }
  let target;
  try {
    target = parseTarget(positionals[0]);
  } catch (err) {
    process.stderr.write(`plugboard connect: ${(err as Error).message}\n`);
    return 2;
  }
  // `plugboard connect … | head` closes our stdout early, and a closed terminal (SIGHUP)
  // fails writes: both are ordinary ways to stop.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'EIO') process.exit(0);
  });
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const code = await new TerminalSession({
    ...target,
    name: values.name,
    password: values.password,
    timeoutMs,
    color: tty && !values['no-color'] && !process.env.NO_COLOR,
    reconnect: !values['no-reconnect'] && !values.once,
    log: values.log,
    json: values.json,
    once: values.once,
    tty,
  }).run();
  // Whatever still holds the event loop (a stdin pipe that never ends) must not keep a
  // finished client alive.
  setTimeout(() => process.exit(code), 200).unref();
  return code;
}
