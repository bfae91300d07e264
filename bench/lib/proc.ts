/**
 * Reads a process's CPU time and memory, and one core's busy time, from /proc.
 * Linux only, like the benchmark itself (taskset, /proc/PID/stat).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond = 0;

/** USER_HZ: the unit of utime/stime in /proc/PID/stat (almost always 100). */
export function clockTicks(): number {
  if (ticksPerSecond === 0) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!(ticksPerSecond > 0)) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** CPU time of all threads of PID in microseconds: user (utime) and kernel (stime). */
export function processCpuSplitUs(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
  const us = 1e6 / clockTicks();
  return { user: Number(fields[11]) * us, system: Number(fields[12]) * us };
}

/** utime + stime of all threads of PID, in microseconds. */
export function processCpuUs(pid: number): number {
  const { user, system } = processCpuSplitUs(pid);
  return user + system;
}

/**
 * Write-family system calls PID has made (write, writev, ...: `syscw` in /proc/PID/io),
 * or NaN when that file cannot be read (another user's process, no task I/O accounting).
 */
export function writeCalls(pid: number): number {
  try {
    const m = /^syscw:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'latin1'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Resident set size of PID in KiB (VmRSS), or 0 when the process is gone. */
export function rssKb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * One core's time in microseconds: busy (everything but idle and iowait) and the softirq
 * part of it. Loopback TCP does its receive-side work in softirq on the sending core,
 * time that /proc/PID/stat does not charge to the sending process.
 */
export function coreUs(core: number): { busy: number; softirq: number; steal: number } {
  const stat = readFileSync('/proc/stat', 'latin1');
  const m = new RegExp(`^cpu${core} (.*)$`, 'm').exec(stat);
  if (!m?.[1]) return { busy: 0, softirq: 0, steal: 0 };
  const v = m[1].trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  const busy = (v[0] ?? 0) + (v[1] ?? 0) + (v[2] ?? 0) + (v[5] ?? 0) + (v[6] ?? 0);
  const us = 1e6 / clockTicks();
  // steal: the hypervisor ran something else on this virtual core.
  return { busy: busy * us, softirq: (v[6] ?? 0) * us, steal: (v[7] ?? 0) * us };
}

/**
 * Time PID's main thread spent runnable but waiting for a CPU, in microseconds (the second
 * field of /proc/PID/schedstat; NaN without schedstats): on a shared machine, how much a
 * server was held back by other processes rather than by its own work.
 */
export function runQueueWaitUs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'latin1').split(' ')[1]) / 1000;
  } catch {
    return NaN;
  }
}
