/**
 * The real programs in a real terminal (tmux): Debian's telnet (inetutils), netcat and
 * `nc -C` on the same server. netcat screens never show a telnet byte; telnet gets 8-bit
 * text both ways, its window size, and lines wrapped to it, rewrapped after a resize.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';
import { displayWidth } from '../../src/protocols/line/wrap.js';

const TMUX = ['-L', `plugboard-telnet-${process.pid}`];
// UTF-8 in the terminal, whatever the environment running the tests has.
const env = { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };

function tmux(...args: string[]): string {
  return execFileSync('tmux', [...TMUX, ...args], { encoding: 'utf8', env });
}

/** The pane's rows as shown (not joined: wrapping is what is being tested). */
function rows(name: string): string[] {
  return tmux('capture-pane', '-p', '-t', `=${name}:`).split('\n');
}

async function waitFor(name: string, re: RegExp, timeoutMs = 8000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = rows(name);
    if (re.test(r.join('\n'))) return r;
    if (Date.now() > deadline) throw new Error(`${name} never showed ${re}:\n${r.join('\n')}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

function typeLine(name: string, text: string): void {
  tmux('send-keys', '-t', `=${name}:`, '-l', text);
  tmux('send-keys', '-t', `=${name}:`, 'Enter');
}

let server: RunningServer;
let port: number;

beforeAll(async () => {
  server = await startTestServer(['--flood-rate', '0', '--history-on-join', '0']);
  port = portOf(server, 'line');
  const start = (name: string, width: number, cmd: string) =>
    tmux('new-session', '-d', '-s', name, '-x', String(width), '-y', '40', cmd);
  start('plain', 100, `nc 127.0.0.1 ${port}`);
  start('crlf', 100, `nc -C 127.0.0.1 ${port}`);
  start('tel', 50, `telnet 127.0.0.1 ${port}`);
  for (const [name, nick] of [
    ['plain', 'nadia'],
    ['crlf', 'carl'],
    ['tel', 'tomo'],
  ] as const) {
    await waitFor(name, /Choose a name:/);
    typeLine(name, nick);
    await waitFor(name, new RegExp(`Welcome, ${nick}!`));
  }
});

afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {
    // already gone
  }
  await server.close();
});

test('netcat screens show no telnet bytes; telnet gets binary, its width and type', () => {
  for (const name of ['plain', 'crlf']) {
    const screen = rows(name).join('\n');
    // A telnet command on a terminal shows as U+FFFD (or Latin-1 letters for 0xFB-0xFF).
    expect(screen).not.toMatch(/[\uFFFD\u00FB-\u00FF]/);
  }
  const tomo = server.hub.find('tomo')!;
  expect(tomo.caps).toBe(50); // the wrap width, from NAWS
  // The welcome is already wrapped to 50 columns, its second row under the text.
  const welcome = rows('tel');
  const at = welcome.findIndex((r) => r.startsWith('* Welcome, tomo!'));
  expect(welcome[at + 1]).toMatch(/^ {2}\S/);
});

test('本, ナ, ダ and emoji pass intact both ways; /join #日本 makes #日本', async () => {
  typeLine('tel', '本ナダ🎉 typed in telnet');
  await waitFor('plain', /<tomo> 本ナダ🎉 typed in telnet/);
  await waitFor('crlf', /<tomo> 本ナダ🎉 typed in telnet/);
  typeLine('plain', 'nc says 本ナダ🎉');
  await waitFor('tel', /<nadia> nc says 本ナダ🎉/);
  typeLine('crlf', 'nc -C says 本ナダ🎉');
  await waitFor('tel', /<carl> nc -C says 本ナダ🎉/);
  typeLine('tel', '/join #日本');
  await waitFor('tel', /You joined #日本 /);
  expect(server.hub.room('#日本')).toBeDefined();
  expect(server.hub.rooms.list().map((r) => r.name)).not.toContainEqual(
    expect.stringContaining('\uFFFD'),
  );
  for (const name of ['plain', 'crlf']) expect(rows(name).join('\n')).not.toMatch(/\uFFFD/);
});

test('long lines wrap to the telnet window under the text; a resize rewraps later lines', async () => {
  typeLine('plain', '/join #日本');
  await waitFor('plain', /You joined #日本/);
  const words = 'a long line that the telnet user sees wrapped under the text after the name';
  typeLine('plain', `first: ${words}`);
  let screen = await waitFor('tel', /after the\s+name/);
  let first = screen.findIndex((r) => /<nadia> first:/.test(r));
  const indent = screen[first]!.indexOf('first:');
  let block = screen.slice(first, screen.findIndex((r, i) => i > first && /name$/.test(r)) + 1);
  expect(block.length).toBeGreaterThan(1);
  for (const r of block) expect(displayWidth(r)).toBeLessThanOrEqual(50);
  for (const r of block.slice(1)) expect(r.slice(0, indent)).toBe(' '.repeat(indent));

  tmux('resize-window', '-t', '=tel:', '-x', '36', '-y', '40');
  await new Promise((r) => setTimeout(r, 300));
  typeLine('plain', `second: ${words}`);
  screen = await waitFor('tel', /second:[\s\S]*name\s*$/);
  first = screen.findIndex((r) => /<nadia> second:/.test(r));
  block = screen.slice(first, screen.findIndex((r, i) => i > first && /name$/.test(r)) + 1);
  // Narrower now: more rows, none wider than 36, still under the text.
  expect(block.length).toBeGreaterThan(3);
  for (const r of block) expect(displayWidth(r)).toBeLessThanOrEqual(36);
  for (const r of block.slice(1)) expect(r.slice(0, indent)).toBe(' '.repeat(indent));
  expect(server.hub.find('tomo')!.caps).toBe(36);
});
