/**
 * The lease keeper's thread (see lease-keeper.ts): renews this node's lease on an event
 * loop of its own, so a main loop starved of CPU for longer than the lease (far more
 * processes than cores) does not get its live node declared dead and its users' quits
 * announced. It renews only while the main loop's heartbeat is recent: a main loop hung
 * for good (an endless loop) lets the lease lapse after `hungMs`, and the node is then
 * cleaned up like a dead one. A process killed with -9 takes this thread with it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { silentLogger } from '../core/ports.js';
import { connectRedis } from './redis-client.js';

export interface LeaseThreadData {
  url: string;
  key: string;
  leaseMs: number;
  renewMs: number;
  hungMs: number;
  /** One Float64: the main loop's last heartbeat (Date.now()). */
  heartbeat: SharedArrayBuffer;
}

const data = workerData as LeaseThreadData;
const beat = new Float64Array(data.heartbeat);
const link = await connectRedis({ url: data.url, log: silentLogger });
let busy = false;

const timer = setInterval(() => {
  if (busy || !link.up) return;
  // The main loop hung for good: stop covering for it.
  if (Date.now() - (beat[0] ?? 0) > data.hungMs) return;
  busy = true;
  link
    .command(['SET', data.key, '1', 'PX', String(data.leaseMs), 'XX'])
    .catch(() => {})
    .finally(() => (busy = false));
}, data.renewMs);

parentPort?.on('message', (msg: unknown) => {
  if (msg !== 'stop') return;
  clearInterval(timer);
  void link.close().finally(() => parentPort?.postMessage('stopped'));
});
parentPort?.postMessage('ready');
