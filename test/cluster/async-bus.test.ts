import { AsyncBus, AsyncWire } from '../../src/cluster/async.js';
import { busContract } from './contract.js';

let wire = new AsyncWire();

busContract({
  name: 'AsyncBus',
  maxNodes: 8,
  make: async (n) => {
    wire = new AsyncWire();
    return Array.from({ length: n }, () => new AsyncBus(wire));
  },
  lose: (channel, count) => wire.dropNext(channel, count),
});
