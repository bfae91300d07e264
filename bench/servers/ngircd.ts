/**
 * ngIRCd, the C peer: a throwaway config in a temporary directory, bound to 127.0.0.1 on
 * a free port, with its limits raised and its flood penalties off (see ngircd.conf(5)).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  running,
  spawnPinned,
  waitForPort,
  type RunningServer,
  type ServerTarget,
  type StartOptions,
} from './spawn.js';

export const NGIRCD = '/usr/sbin/ngircd';

export function ngircdVersion(): string | null {
  try {
    const out = execFileSync(NGIRCD, ['--version'], { encoding: 'utf8' });
    return out.split('\n')[0]?.trim() ?? null;
  } catch {
    return null;
  }
}

/**
 * MaxPenaltyTime = 0 turns off the penalty seconds ngIRCd adds when a client exceeds
 * 3 commands per read or 256 bytes/s; what remains is its fixed 3-commands-per-loop
 * read batching, which only spreads a burst over loop turns.
 */
export function ngircdConfig(port: number): string {
  return `[Global]
\tName = bench.ngircd.local
\tInfo = Plugboard benchmark peer
\tListen = 127.0.0.1
\tPorts = ${port}
\tMotdPhrase = "benchmark"

[Limits]
\tMaxConnections = 0
\tMaxConnectionsIP = 0
\tMaxJoins = 0
\tMaxNickLength = 30
\tMaxPenaltyTime = 0
\tPingTimeout = 3600
\tPongTimeout = 3600

[Options]
\tDNS = no
\tIdent = no
\tPAM = no
`;
}

export function ngircdTarget(version: string): ServerTarget {
  return {
    id: 'ngircd',
    label: 'ngIRCd (IRC)',
    protocol: 'irc',
    rooms: true,
    maxClients: 0,
    maxClientsWhy: 'open-file limit',
    version,
    async start(o: StartOptions): Promise<RunningServer> {
      const dir = mkdtempSync(join(tmpdir(), 'ngircd-bench-'));
      // ngIRCd drops root for "nobody", which must still read its config.
      chmodSync(dir, 0o755);
      const port = await freePort('127.0.0.1');
      const conf = join(dir, 'ngircd.conf');
      writeFileSync(conf, ngircdConfig(port), { mode: 0o644 });
      const child = spawnPinned(o.core, NGIRCD, ['--nodaemon', '--config', conf], o.logFile);
      try {
        await waitForPort(child, '127.0.0.1', port, 15_000);
        return running(child, '127.0.0.1', port, o.logFile);
      } catch (e) {
        child.kill('SIGKILL');
        throw e;
      }
    },
  };
}
