import { MemoryStore } from '../../src/store/memory.js';
import { storeContract } from './contract.js';
import { searchContract } from './search-contract.js';

storeContract('memory', async (log) => {
  const s = new MemoryStore(1000, log);
  await s.init();
  return s;
});

searchContract('memory', async () => {
  const s = new MemoryStore(1000);
  await s.init();
  return s;
});
