/**
 * One option table: the docs copy from it (README's `serve --help`, the options table in
 * docs/operations.md), every ServerOptions field is reachable by a flag, and every flag
 * parses from the command line, the environment and a config file alike.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import prettier from 'prettier';
import { expect, test } from 'vitest';
import {
  allOptions,
  configOptions,
  envName,
  optionsMarkdown,
  parseServeArgs,
  serveHelp,
  type ServerConfig,
} from '../../src/config.js';
import { coreOptions, defaultOptions } from '../../src/core/options.js';
import { splice } from '../../src/docs-splice.js';

async function generated(file: string, marker: string, text: string): Promise<string> {
  const path = join(process.cwd(), file);
  const options = (await prettier.resolveConfig(path)) ?? {};
  return prettier.format(splice(readFileSync(path, 'utf8'), marker, text), {
    ...options,
    filepath: path,
  });
}

test('README and docs/operations.md hold what the option table generates (npm run docs:options)', async () => {
  expect(readFileSync('README.md', 'utf8')).toBe(
    await generated('README.md', 'serve-help', '```\n' + serveHelp() + '\n```'),
  );
  expect(readFileSync('docs/operations.md', 'utf8')).toBe(
    await generated('docs/operations.md', 'options-table', optionsMarkdown()),
  );
  // Prettier formats both tables: slow on a loaded machine.
}, 60_000);

test('every core option is reachable: each ServerOptions field is set by some flag', () => {
  const reached = new Set<string>();
  for (const spec of coreOptions) {
    const probe = new Proxy({} as Record<string, unknown>, {
      set(_t, key) {
        reached.add(String(key));
        return true;
      },
      get: () => new Map(),
    });
    const value =
      spec.kind === 'bool'
        ? true
        : spec.kind === 'list'
          ? ['a:b']
          : spec.kind === 'string'
            ? 'x'
            : 1;
    spec.set(probe as never, value);
  }
  for (const key of Object.keys(defaultOptions())) {
    if (key === 'opers') continue; // set through Map.set by --oper
    expect(reached.has(key), key).toBe(true);
  }
});

test('flags are unique, and a value is read the same from a flag, the environment and a file', () => {
  const flags = allOptions.map((s) => s.flag);
  expect(new Set(flags).size).toBe(flags.length);
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-opts-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ 'send-queue': '5000', 'name-grace': 7 }));
  const fromFlag = parseServeArgs(
    ['--send-queue', '5000', '--name-grace', '7'],
    {},
  ) as ServerConfig;
  const fromEnv = parseServeArgs([], {
    [envName('send-queue')]: '5000',
    [envName('name-grace')]: '7',
  }) as ServerConfig;
  const fromFile = parseServeArgs(['--config', file], {}) as ServerConfig;
  for (const c of [fromFlag, fromEnv, fromFile]) {
    expect(c.options.sendQueueBytes).toBe(5000);
    expect(c.options.accountGraceMs).toBe(7000);
  }
  // Bounds are checked in the flag's unit, and the message says them.
  expect(() => parseServeArgs(['--send-queue', '10'], {})).toThrow(
    /--send-queue must be a whole number of at least 1024/,
  );
  expect(() => parseServeArgs(['--ws-keepalive', 'soon'], {})).toThrow(/--ws-keepalive/);
  expect(configOptions.length + coreOptions.length).toBe(allOptions.length);
});
