/**
 * Which TCP connections a process still holds a descriptor for, seen from outside with
 * `ss -tanp` (root sees every process's sockets). A connection is named by the client's
 * port, so a scenario can tell exactly which of its peers the server has let go.
 */
import { execFileSync } from 'node:child_process';

export interface HeldSocket {
  state: string;
  localPort: number;
  peerPort: number;
}

/** TCP sockets of `pid` on one of `ports` (its listeners), by peer (client) port. */
export function heldSockets(pid: number, ports: number[]): Map<number, HeldSocket> {
  const out = new Map<number, HeldSocket>();
  let text = '';
  try {
    text = execFileSync('ss', ['-tanpH'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch {
    return out;
  }
  const mine = `pid=${pid},`;
  const listening = new Set(ports);
  for (const line of text.split('\n')) {
    if (!line.includes(mine)) continue;
    const cols = line.trim().split(/\s+/);
    const [state, , , local, peer] = cols;
    if (!state || !local || !peer || state === 'LISTEN') continue;
    const localPort = Number(local.slice(local.lastIndexOf(':') + 1));
    const peerPort = Number(peer.slice(peer.lastIndexOf(':') + 1));
    if (listening.has(localPort)) out.set(peerPort, { state, localPort, peerPort });
  }
  return out;
}
