#!/usr/bin/env node
// Thin launcher so `npx plugboard` runs the compiled CLI.
import '../dist/src/cli.js';
