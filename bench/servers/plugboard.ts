/**
 * Plugboard itself, started from the build in dist/ with flood control off and every
 * listener but the one under test switched off.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVER_NODE_FLAGS } from '../../src/runtime-flags.js';
import { repoRoot } from '../lib/paths.js';
import type { ProtocolName } from '../gen/types.js';
import {
  running,
  spawnPinned,
  waitForReadyFile,
  type RunningServer,
  type ServerTarget,
  type StartOptions,
} from './spawn.js';

export const plugboardCli = join(repoRoot, 'dist', 'src', 'cli.js');

/**
 * The flags `npm start` uses, so the benchmark measures the server as shipped;
 * PLUGBOARD_BENCH_NODE_FLAGS (space-separated, may be empty) replaces them for experiments.
 */
function serverNodeFlags(): string[] {
  const override = process.env.PLUGBOARD_BENCH_NODE_FLAGS;
  if (override !== undefined) return override.split(' ').filter(Boolean);
  return [...SERVER_NODE_FLAGS];
}

export function plugboardAvailable(cli = plugboardCli): boolean {
  return existsSync(cli);
}

function args(cli: string, protocol: ProtocolName, dir: string): string[] {
  const on = (p: ProtocolName): string => (p === protocol ? '0' : '-1');
  return [
    cli,
    'serve',
    '--host',
    '127.0.0.1',
    '--line-port',
    on('line'),
    '--irc-port',
    on('irc'),
    ...['--framed-port', '--irc-tls-port', '--line-tls-port', '--framed-tls-port'].flatMap((f) => [
      f,
      '-1',
    ]),
    ...['--http-port', '-1', '--udp-port', '-1'],
    ...['--store', 'memory', '--data-dir', dir, '--flood-rate', '0'],
    ...['--ready-file', join(dir, 'ready.json'), '--log-level', 'warn', '--no-console'],
  ];
}

/**
 * Starts one Plugboard process with only `protocol`'s listener, on a free port; `cli` is
 * another build's dist/src/cli.js for before/after comparisons (--baseline).
 */
export async function startPlugboard(
  protocol: ProtocolName,
  o: StartOptions,
  extraArgs: string[] = [],
  cli = plugboardCli,
): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-bench-'));
  const node = [
    ...serverNodeFlags(),
    ...(o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir] : []),
  ];
  const child = spawnPinned(
    o.core,
    process.execPath,
    [...node, ...args(cli, protocol, dir), ...extraArgs],
    o.logFile,
  );
  try {
    const ready = await waitForReadyFile(child, join(dir, 'ready.json'), 30_000);
    const addr = ready[protocol];
    if (!addr) throw new Error(`Plugboard has no ${protocol} listener yet`);
    return running(child, addr.host, addr.port, o.logFile);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
}

export function plugboardTarget(
  protocol: ProtocolName,
  version: string,
  extraArgs: string[] = [],
  cli = plugboardCli,
): ServerTarget {
  return {
    requires: cli,
    id: `plugboard-${protocol}`,
    label: `Plugboard (${protocol === 'irc' ? 'IRC' : 'line'})`,
    protocol,
    rooms: true,
    maxClients: 0, // filled in from the open-file limit by the caller
    maxClientsWhy: 'open-file limit',
    version,
    start: (o: StartOptions) => startPlugboard(protocol, o, extraArgs, cli),
  };
}
