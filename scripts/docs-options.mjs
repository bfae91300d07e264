#!/usr/bin/env node
// Regenerates what the docs copy from the option table (src/config.ts, src/core/options.ts):
// the README's `serve --help` block and the options table in docs/operations.md, between
// their <!-- generated:… --> markers. `npm run docs:options`; test/unit/options-docs.test.ts
// fails when they drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import prettier from 'prettier';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { serveHelp, optionsMarkdown } = await import(join(root, 'dist/src/config.js'));
const { splice } = await import(join(root, 'dist/src/docs-splice.js'));

const targets = [
  ['README.md', 'serve-help', '```\n' + serveHelp() + '\n```'],
  ['docs/operations.md', 'options-table', optionsMarkdown()],
];
for (const [file, marker, text] of targets) {
  const path = join(root, file);
  const before = readFileSync(path, 'utf8');
  // Formatted as `npm run lint` wants it (prettier aligns Markdown tables).
  const options = (await prettier.resolveConfig(path)) ?? {};
  const after = await prettier.format(splice(before, marker, text), { ...options, filepath: path });
  if (after !== before) {
    writeFileSync(path, after);
    process.stdout.write(`updated ${file}\n`);
  }
}
