/** Where things are, from the compiled file's location (dist/reliability/lib/paths.js). */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const cliPath = join(repoRoot, 'dist', 'src', 'cli.js');
/** Results of every run, one JSON file per run (gitignored). */
export const resultsDir = join(repoRoot, '.reliability-results');
export const fullDiskScript = join(repoRoot, 'scripts', 'chaos', 'full-disk.mjs');
