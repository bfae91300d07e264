#!/usr/bin/env -S node --max-semi-space-size=2
// Thin launcher so `npx plugboard` runs the compiled CLI. The V8 flag is the one in
// src/runtime-flags.ts (a test checks the two agree): see that file for why.
import '../dist/src/cli.js';
