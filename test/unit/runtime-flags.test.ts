import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from '../../src/runtime-flags.js';

// The flags can only be given on node's command line, so they are written in three
// places; the benchmark reads src/runtime-flags.ts. Keep npm start and the bin in step.
describe('server node flags', () => {
  it('npm start and bin/plugboard.js pass the same flags as the benchmark', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      scripts: Record<string, string>;
    };
    const bin = readFileSync('bin/plugboard.js', 'utf8').split('\n')[0] ?? '';
    expect(SERVER_NODE_FLAGS.length).toBeGreaterThan(0);
    for (const flag of SERVER_NODE_FLAGS) {
      expect(pkg.scripts.start).toContain(` ${flag} `);
      expect(bin).toContain(flag);
    }
  });

  it('the bin launcher starts: env -S accepts the flags', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync('bin/plugboard.js', ['--help'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(out).toContain('Usage: plugboard');
  });
});
