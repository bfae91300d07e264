/** Every scenario, in the order the runner takes them. */
import type { Scenario } from '../lib/scenario.js';
import { fdExhaustion } from './fd-exhaustion.js';
import { garbage } from './garbage.js';
import { slowPeers } from './slow-peers.js';

export const scenarios: Scenario[] = [garbage, slowPeers, fdExhaustion];
