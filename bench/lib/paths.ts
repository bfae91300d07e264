/** Where things are, from the compiled file's location (dist/bench/lib/paths.js). */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const resultsDir = join(repoRoot, 'bench', 'results');
export const rawDir = join(resultsDir, 'raw');
export const docsDir = join(repoRoot, 'docs');
export const workerScript = fileURLToPath(new URL('../gen/worker.js', import.meta.url));
export const scaleWorkerScript = fileURLToPath(new URL('../gen/scale-worker.js', import.meta.url));
