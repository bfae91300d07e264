/** --ack-after-commit (flag, PLUGBOARD_ACK_AFTER_COMMIT, config file), off by default. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { parseServeArgs, serveHelp } from '../../src/config.js';

const ackAfterCommit = (argv: string[], env: NodeJS.ProcessEnv = {}): boolean => {
  const config = parseServeArgs(argv, env);
  if (config === 'help') throw new Error('unexpected help');
  return config.options.ackAfterCommit;
};

test('off by default; on by flag, environment or config file', () => {
  expect(ackAfterCommit([])).toBe(false);
  expect(ackAfterCommit(['--ack-after-commit'])).toBe(true);
  expect(ackAfterCommit([], { PLUGBOARD_ACK_AFTER_COMMIT: '1' })).toBe(true);
  expect(ackAfterCommit([], { PLUGBOARD_ACK_AFTER_COMMIT: 'true' })).toBe(true);
  expect(ackAfterCommit([], { PLUGBOARD_ACK_AFTER_COMMIT: '0' })).toBe(false);
  const file = join(mkdtempSync(join(tmpdir(), 'plugboard-config-')), 'config.json');
  writeFileSync(file, JSON.stringify({ 'ack-after-commit': true }));
  expect(ackAfterCommit(['--config', file])).toBe(true);
  expect(serveHelp()).toContain('--ack-after-commit');
});
