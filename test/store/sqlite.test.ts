import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.js';
import { storeContract } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'plugboard-sqlite-'));
storeContract('sqlite', async () => {
  // The same file every time: the contract also checks that data survives reopening.
  const s = new SqliteStore(join(dir, 'plugboard.db'));
  await s.init();
  return s;
});
