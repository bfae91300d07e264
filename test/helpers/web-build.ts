/**
 * Builds web/dist when it is older than the client's sources, so tests exercise the current
 * client. `npm test` builds first (pretest), so test files running in parallel find it
 * fresh and never rebuild it under each other's feet.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return latest;
}

function builtAt(): number {
  try {
    return Math.min(
      statSync(join(ROOT, 'web/dist/app.js')).mtimeMs,
      statSync(join(ROOT, 'web/dist/index.html')).mtimeMs,
    );
  } catch {
    return 0;
  }
}

export function buildWeb(): void {
  const sources = Math.max(
    newest(join(ROOT, 'web/src')),
    newest(join(ROOT, 'web/public')),
    statSync(join(ROOT, 'src/protocols/json/schema.ts')).mtimeMs,
  );
  if (builtAt() >= sources) return;
  execFileSync(process.execPath, ['scripts/build-web.mjs'], { cwd: ROOT, stdio: 'inherit' });
}
