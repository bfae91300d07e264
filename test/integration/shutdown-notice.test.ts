/**
 * What IRC clients and the terminal client are told when the server shuts down (issue 16
 * #4): the reason once, and for IRC an ERROR as the last line before the close (RFC 2812
 * 3.7.4), as docs/operations.md says.
 */
import { spawn } from 'node:child_process';
import { expect, test } from 'vitest';
import { RawIrcClient } from '../helpers/irc-client.js';
import { CLI } from '../helpers/process.js';
import { portOf, startTestServer } from '../helpers/server.js';

async function closed(c: RawIrcClient): Promise<void> {
  if (c.socket.closed) return;
  await new Promise((resolve) => c.socket.once('close', resolve));
}

test.each([
  ['no reason (SIGTERM, SIGINT)', undefined, 'Server shutting down'],
  ['an operator’s reason', 'upgrading to 2.0', 'Server shutting down: upgrading to 2.0'],
])('IRC, %s: ERROR Closing link, the reason said once, then the close', async (_, reason, said) => {
  const server = await startTestServer(['--irc-port', '0']);
  const irc = portOf(server, 'irc');
  const registered = await RawIrcClient.register(irc, 'leaving');
  const unregistered = await RawIrcClient.connect(irc);
  unregistered.send('NICK halfway');
  registered.send('PING :ready');
  await registered.expect(/PONG .*ready/);
  await server.close(reason);
  await Promise.all([closed(registered), closed(unregistered)]);
  for (const [c, who] of [
    [registered, '~?leaving@127\\.0\\.0\\.1'],
    [unregistered, '127\\.0\\.0\\.1'],
  ] as const) {
    const last = c.lines[c.lines.length - 1] as string;
    expect(last).toMatch(new RegExp(`^ERROR :Closing link: \\(${who}\\) \\[(.*)\\]$`));
    expect(last.slice(last.indexOf('[') + 1, -1)).toBe(said);
    expect(c.lines.filter((l) => /shutting down/i.test(l))).toEqual([last]);
  }
});

/** The terminal client in a pipe, until it exits; resolves to what it printed. */
function terminal(port: number, name: string): { output: Promise<string> } {
  const child = spawn(
    process.execPath,
    [CLI, 'connect', `127.0.0.1:${port}`, '--name', name, '--no-reconnect'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { output: new Promise((resolve) => child.on('exit', () => resolve(out))) };
}

test.each([
  ['no reason', undefined, '* Server shutting down'],
  ['an operator’s reason', 'upgrading to 2.0', '* Server shutting down: upgrading to 2.0'],
])('terminal client, %s: the reason said once', async (_, reason, said) => {
  const server = await startTestServer(['--framed-port', '0']);
  const client = terminal(portOf(server, 'framed'), 'watcher');
  // The welcome is printed once the client is in: then it can be told.
  const deadline = Date.now() + 10_000;
  while (!server.hub.find('watcher') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await server.close(reason);
  const out = await client.output;
  expect(out).toContain(`\n${said}\nDisconnected from server\n`);
  expect(out.match(/shutting down/gi)).toHaveLength(1);
});
