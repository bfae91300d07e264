import { LocalBus } from '../../src/cluster/local.js';
import { busContract } from './contract.js';

busContract({
  name: 'LocalBus',
  maxNodes: 1,
  make: async (n) => Array.from({ length: n }, () => new LocalBus()),
});
