/** The machine a run happened on, as the report prints it. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { openFileLimit } from '../targets.js';
import { ngircdVersion } from '../servers/ngircd.js';
import { pythonVersion } from '../servers/python.js';

export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  lscpu: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  ngircd: string;
  python: string;
  openFileLimit: number;
  somaxconn: number;
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

export function machineInfo(): MachineInfo {
  const lscpu = sh('lscpu', []);
  const keep =
    /^(Architecture|CPU\(s\)|Model name|Thread\(s\) per core|Core\(s\) per socket|Socket\(s\)|Hypervisor vendor|L1d cache|L2 cache|L3 cache|CPU max MHz|BogoMIPS):/;
  let somaxconn = 0;
  try {
    somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
  } catch {
    // not Linux: left 0
  }
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    lscpu: lscpu
      .split('\n')
      .filter((l) => keep.test(l))
      .map((l) => l.replace(/\s{2,}/g, ' '))
      .join('\n'),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    ngircd: ngircdVersion() ?? 'not installed',
    python: pythonVersion() ?? 'missing',
    openFileLimit: openFileLimit(),
    somaxconn,
  };
}
