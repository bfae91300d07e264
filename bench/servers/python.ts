/** The Python 3 select() baseline in bench/baselines/, started from source. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../lib/paths.js';
import {
  running,
  spawnPinned,
  waitForReadyFile,
  type RunningServer,
  type ServerTarget,
  type StartOptions,
} from './spawn.js';

export const baselineScript = join(repoRoot, 'bench', 'baselines', 'select_chat.py');

/** select() takes descriptors below FD_SETSIZE (1024); the baseline refuses the rest. */
export const SELECT_MAX_CLIENTS = 1000;

export function pythonVersion(): string | null {
  try {
    return execFileSync('python3', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

export function pythonTarget(version: string): ServerTarget {
  return {
    id: 'python-select',
    label: 'Python select() baseline',
    protocol: 'line',
    rooms: false,
    maxClients: SELECT_MAX_CLIENTS,
    maxClientsWhy: 'select() handles descriptors below FD_SETSIZE = 1024 only',
    version,
    async start(o: StartOptions): Promise<RunningServer> {
      const dir = mkdtempSync(join(tmpdir(), 'select-bench-'));
      const ready = join(dir, 'ready.json');
      const child = spawnPinned(
        o.core,
        'python3',
        ['-u', baselineScript, '--host', '127.0.0.1', '--port', '0', '--ready-file', ready],
        o.logFile,
      );
      try {
        const addr = (await waitForReadyFile(child, ready, 15_000)).line;
        if (!addr) throw new Error('baseline wrote no line address');
        return running(child, addr.host, addr.port, o.logFile);
      } catch (e) {
        child.kill('SIGKILL');
        throw e;
      }
    },
  };
}
