import { MemoryStore } from '../../src/store/memory.js';
import { storeContract } from './contract.js';

storeContract('memory', async (log) => {
  const s = new MemoryStore(1000, log);
  await s.init();
  return s;
});
