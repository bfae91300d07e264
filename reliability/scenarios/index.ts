/** Every scenario, in the order the runner takes them. */
import type { Scenario } from '../lib/scenario.js';
import { churn } from './churn.js';
import { damagedDb } from './damaged-db.js';
import { fdExhaustion } from './fd-exhaustion.js';
import { fullDisk } from './full-disk.js';
import { garbage } from './garbage.js';
import { injection } from './injection.js';
import { kill9 } from './kill9.js';
import { slowPeers } from './slow-peers.js';

export const scenarios: Scenario[] = [
  garbage,
  slowPeers,
  churn,
  injection,
  fdExhaustion,
  fullDisk,
  damagedDb,
  kill9,
];
