#!/usr/bin/env node
// Builds dist/ (tsc) and web/dist/ (esbuild) — or, with --if-stale, only when a source
// changed since the last build: `npm start` and `npm test` then start in a fraction of a
// second instead of the 15-40 s a full type-checked build takes on a small machine. The
// inputs' contents are hashed (not their times: a checkout or a copy changes every time).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(root, 'dist', '.build-stamp');
const INPUTS = [
  'src',
  'bench',
  'reliability',
  'web/src',
  'web/public',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
  'scripts/build.mjs',
  'scripts/build-web.mjs',
];

function files(path) {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (statSync(full).isFile()) return [full];
  return readdirSync(full, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && e.name !== 'results' && e.name !== 'node_modules')
    .flatMap((e) => files(join(path, e.name)));
}

function fingerprint() {
  const hash = createHash('sha256');
  for (const f of INPUTS.flatMap(files).sort()) {
    hash.update(relative(root, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  return hash.digest('hex');
}

const ifStale = process.argv.includes('--if-stale');
const now = fingerprint();
if (
  ifStale &&
  existsSync(STAMP) &&
  readFileSync(STAMP, 'utf8') === now &&
  existsSync(join(root, 'dist/src/cli.js'))
) {
  process.exit(0);
}
if (ifStale) process.stderr.write('plugboard: sources changed, building (tsc + web client)…\n');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
  cwd: root,
});
execFileSync(process.execPath, [join(root, 'scripts', 'build-web.mjs')], {
  stdio: 'inherit',
  cwd: root,
});
mkdirSync(dirname(STAMP), { recursive: true });
writeFileSync(STAMP, now);
