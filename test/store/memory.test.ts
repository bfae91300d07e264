import { MemoryStore } from '../../src/store/memory.js';
import { storeContract } from './contract.js';

storeContract('memory', async () => {
  const s = new MemoryStore(1000);
  await s.init();
  return s;
});
