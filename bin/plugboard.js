#!/usr/bin/env -S node --max-semi-space-size=2
// Thin launcher so `npx plugboard` runs the compiled CLI. The V8 flag is the one in
// src/runtime-flags.ts (a test checks the two agree): see that file for why. A checkout
// that was never built (cloned, not yet `npm install`ed) is built first, saying so,
// rather than failing on a missing dist/ or looking hung while it builds.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  const build = fileURLToPath(new URL('../scripts/build.mjs', import.meta.url));
  process.stderr.write('plugboard: first run: building the server (about 15-40 s)…\n');
  execFileSync(process.execPath, [build], { stdio: ['ignore', 'inherit', 'inherit'] });
}
await import(cli.href);
