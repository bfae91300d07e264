/**
 * The package's public API, resolved the way a program that depends on plugboard resolves
 * it (Node's `exports`, the built dist): embed a server, connect a bot with the client
 * library, and chat.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const script = `
import { parseServeArgs, startServer, LocalBus, ErrorCode } from 'plugboard';
import { FramedClient } from 'plugboard/client';
const config = parseServeArgs(['--line-port', '-1', '--framed-port', '0', '--irc-port', '-1',
  '--irc-tls-port', '-1', '--line-tls-port', '-1', '--framed-tls-port', '-1', '--http-port', '-1',
  '--udp-port', '-1', '--store', 'memory', '--data-dir', process.argv[1], '--no-console'], {});
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const server = await startServer(config, quiet);
const bot = await FramedClient.connect('127.0.0.1', server.addresses().framed.port);
const welcome = await bot.request({ type: 'hello', name: 'embedded' });
const ok = await bot.request({ type: 'say', room: '#lobby', text: 'hi' });
console.log(JSON.stringify({ welcome: welcome.type, ok: ok.type, bus: typeof LocalBus, code: ErrorCode.NameInUse }));
bot.close();
await server.close();
`;

test('import plugboard and plugboard/client from the built package', () => {
  expect(existsSync('dist/src/index.d.ts')).toBe(true);
  expect(existsSync('dist/src/client/index.d.ts')).toBe(true);
  const out = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', script, mkdtempSync(join(tmpdir(), 'plugboard-api-'))],
    { encoding: 'utf8', timeout: 15_000 },
  );
  expect(JSON.parse(out.trim().split('\n').pop() as string)).toEqual({
    welcome: 'welcome',
    ok: 'ok',
    bus: 'function',
    code: 'name_in_use',
  });
});
