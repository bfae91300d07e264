/**
 * Starts a real server in-process on port 0 with test-friendly options.
 */
import { parseServeArgs, type ServerConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { silentLogger } from '../../src/core/ports.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every listener but the line protocol's off: tests turn on the ones they speak. */
export const OTHER_LISTENERS_OFF: readonly string[] = [
  '--framed-port',
  '-1',
  '--irc-port',
  '-1',
  '--irc-tls-port',
  '-1',
  '--line-tls-port',
  '-1',
  '--framed-tls-port',
  '-1',
  '--http-port',
  '-1',
  '--udp-port',
  '-1',
];

export function testConfig(extra: string[] = []): ServerConfig {
  const dataDir = mkdtempSync(join(tmpdir(), 'plugboard-test-'));
  const config = parseServeArgs(
    [
      '--line-port',
      '0',
      ...OTHER_LISTENERS_OFF,
      '--store',
      'memory',
      '--data-dir',
      dataDir,
      '--no-console',
      '--server-name',
      'test.plugboard',
      ...extra,
    ],
    {},
  );
  if (config === 'help') throw new Error('unexpected help');
  return config;
}

export async function startTestServer(extra: string[] = []): Promise<RunningServer> {
  return startServer(testConfig(extra), silentLogger);
}

export function portOf(server: RunningServer, listener: string): number {
  const a = server.addresses()[listener];
  if (!a) throw new Error(`no ${listener} listener`);
  return a.port;
}
