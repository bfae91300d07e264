import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.js';
import { storeContract } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'plugboard-sqlite-'));
storeContract(
  'sqlite',
  async (log) => {
    // The same file every time: the contract also checks that data survives reopening.
    const s = new SqliteStore(join(dir, 'plugboard.db'), log ? { log } : {});
    await s.init();
    return s;
  },
  {
    reason: 'the disk is full',
    // A real SQLITE_FULL: the database may not grow past the pages it has.
    break: async (store) => void (store as SqliteStore).setMaxPages(1),
    mend: async (store) => void (store as SqliteStore).setMaxPages(1 << 30),
  },
);
