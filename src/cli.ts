/**
 * `plugboard serve | connect | admin | udp-ping` — one entry point for every command.
 */
import { clearLine, createInterface, cursorTo } from 'node:readline';
import { ConfigError, parseServeArgs, serveHelp } from './config.js';
import { createLogger } from './logger.js';
import cluster from 'node:cluster';
import { startServer, type RunningServer } from './server.js';
import { runAdminCommand } from './admin/commands.js';

const USAGE = `Usage: plugboard <command> [options]

Commands:
  serve       run the chat server (see: plugboard serve --help)
  connect     terminal client (see: plugboard connect --help)
  admin       operator console over the admin socket
  udp-ping    measure round trips to the UDP echo service
`;

type Subcommand = (argv: string[]) => Promise<number | void>;

async function serve(argv: string[]): Promise<number | void> {
  let config;
  try {
    config = parseServeArgs(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`plugboard serve: ${err.message}\n${'Try plugboard serve --help'}\n`);
      return 2;
    }
    throw err;
  }
  if (config === 'help') {
    process.stdout.write(serveHelp() + '\n');
    return 0;
  }
  // A worker of `--workers N` (forked by the primary below, with the same arguments).
  if (config.workers > 1 && cluster.isWorker) {
    const { runWorker } = await import('./cluster/workers-child.js');
    return runWorker(config, createLogger(config.logLevel));
  }
  // With the operator console on a terminal, log lines keep clear of its prompt.
  const interactive = config.console && process.stdin.isTTY === true;
  let rl: ReturnType<typeof createInterface> | null = null;
  const log = createLogger(
    config.logLevel,
    interactive
      ? {
          before: () => {
            if (rl) clearLine(process.stderr, 0, () => cursorTo(process.stderr, 0));
          },
          after: () => rl?.prompt(true),
        }
      : undefined,
  );
  let server: Served;
  try {
    server =
      config.workers > 1
        ? await (
            await import('./cluster/workers-primary.js')
          ).startWorkers(config, log, { requestShutdown: (reason) => stop(reason) })
        : single(
            await startServer(config, log, { requestShutdown: (reason) => stop(reason) }),
            (reason) => stop(reason),
          );
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`plugboard serve: cannot start: ${e.message}\n`);
    return 1;
  }
  // The last resort: every handler already answers its own failures, so anything that
  // reaches here is a bug one request triggered. It is logged and counted and the server
  // keeps serving everyone else; exiting would hand any client a way to stop the chat.
  const lastResort = (err: unknown, kind: string): void => {
    server.countError?.();
    log.error({ err, kind }, 'uncaught error; still serving');
  };
  process.on('uncaughtException', (err) => lastResort(err, 'exception'));
  process.on('unhandledRejection', (err) => lastResort(err, 'rejection'));

  let stopping = false;
  const stop = (reason: string): void => {
    if (stopping) {
      // A second signal: the operator wants out now (workers end with the primary).
      process.stderr.write('plugboard: exiting immediately\n');
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`plugboard: ${reason}\n`);
    void server.close(reason).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('server shutting down'));
  process.on('SIGTERM', () => stop('server shutting down'));

  if (interactive) {
    const prompt = createInterface({
      input: process.stdin,
      output: process.stderr,
      prompt: 'plugboard> ',
    });
    rl = prompt;
    // readline swallows Ctrl-C on a terminal: treat it as the signal it stands for.
    prompt.on('SIGINT', () => stop('server shutting down'));
    prompt.on('line', (line) => {
      server.run(line).then(
        (lines) => {
          for (const out of lines) process.stderr.write(out + '\n');
          prompt.prompt();
        },
        (err: unknown) => {
          process.stderr.write(`error: ${(err as Error).message}\n`);
          prompt.prompt();
        },
      );
    });
    prompt.prompt();
  }
}

/** What `serve` runs: one process, or the primary of several (the same to the console). */
interface Served {
  run(line: string): Promise<string[]>;
  close(reason: string): Promise<void>;
  /** Counts an uncaught error in the hub's figures (a primary has none). */
  countError?(): void;
}

function single(server: RunningServer, shutdown: (reason: string) => void): Served {
  const ctx = { hub: server.hub, shutdown, transport: server.transport };
  return {
    run: (line) => runAdminCommand(ctx, line),
    close: (reason) => server.close(reason),
    countError: () => server.hub.counters.handlerErrors++,
  };
}

const subcommands: Record<string, () => Promise<Subcommand>> = {
  serve: async () => serve,
  admin: async () => (await import('./admin/client.js')).adminMain,
  connect: async () => (await import('./client/terminal.js')).connectMain,
  'udp-ping': async () => (await import('./client/udp-ping.js')).udpPingMain,
};

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    process.exitCode = name ? 0 : 2;
    return;
  }
  const load = subcommands[name];
  if (!load) {
    process.stderr.write(`plugboard: unknown command "${name}"\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const code = await (await load())(rest);
  if (typeof code === 'number') process.exitCode = code;
}

await main();
