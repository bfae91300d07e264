/** Every scenario, in the order the runner takes them. */
import type { Scenario } from '../lib/scenario.js';
import { garbage } from './garbage.js';

export const scenarios: Scenario[] = [garbage];
