/**
 * The real programs in a real terminal (tmux): Debian's telnet (inetutils), netcat and
 * `nc -C` on the same server. netcat screens never show a telnet byte; telnet gets 8-bit
 * text both ways, its window size, and lines wrapped to it, rewrapped after a resize.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { portOf, startTestServer } from '../helpers/server.js';
import { Tmux, requirePrograms, type Pane } from '../helpers/tmux.js';
import type { RunningServer } from '../../src/server.js';
import { displayWidth } from '../../src/protocols/line/wrap.js';

const tmux = new Tmux('telnet');
let server: RunningServer;
let plain: Pane;
let crlf: Pane;
let tel: Pane;

/** The rows as shown, not joined: wrapping is what is being tested. */
async function rows(pane: Pane): Promise<string[]> {
  return (await tmux.tmux('capture-pane', '-p', '-t', `=${pane.name}:`)).split('\n');
}

async function resize(pane: Pane, columns: number): Promise<void> {
  await tmux.tmux('resize-window', '-t', `=${pane.name}:`, '-x', String(columns), '-y', '40');
}

/** The rows of the message whose first row matches `first`, up to the one matching `last`. */
function block(screen: string[], first: RegExp, last: RegExp): string[] {
  const at = screen.findIndex((r) => first.test(r));
  const end = screen.findIndex((r, i) => i >= at && last.test(r));
  expect(at).toBeGreaterThanOrEqual(0);
  return screen.slice(at, end + 1);
}

beforeAll(async () => {
  requirePrograms('tmux', 'nc', 'telnet');
  server = await startTestServer(['--flood-rate', '0', '--history-on-join', '0']);
  const port = String(portOf(server, 'line'));
  plain = await tmux.open('plain', ['nc', '127.0.0.1', port]);
  crlf = await tmux.open('crlf', ['nc', '-C', '127.0.0.1', port]);
  tel = await tmux.open('tel', ['telnet', '127.0.0.1', port]);
  await resize(tel, 50); // telnet reports the size when the server asks, after the name
  for (const [pane, nick] of [
    [plain, 'nadia'],
    [crlf, 'carl'],
    [tel, 'tomo'],
  ] as const) {
    await pane.waitFor(/Choose a name:/);
    await pane.type(nick);
    await pane.waitFor(`Welcome, ${nick}!`);
  }
});

afterAll(async () => {
  await tmux.close();
  await server.close();
});

test('netcat screens show no telnet bytes; telnet gets binary, its width and type', async () => {
  for (const pane of [plain, crlf]) {
    // A telnet command on a terminal shows as U+FFFD (or Latin-1 letters for 0xFB-0xFF).
    expect(await pane.capture()).not.toMatch(/[\uFFFD\u00FB-\u00FF]/);
  }
  expect(server.hub.find('tomo')!.caps).toBe(50); // the wrap width, from NAWS
  // The welcome is already wrapped to 50 columns, its second row under the text.
  const screen = await rows(tel);
  const at = screen.findIndex((r) => r.startsWith('* Welcome, tomo!'));
  expect(screen[at + 1]).toMatch(/^ {2}\S/);
});

test('本, ナ, ダ and emoji pass intact both ways; /join #日本 makes #日本', async () => {
  await tel.type('本ナダ🎉 typed in telnet');
  await plain.waitFor('<tomo> 本ナダ🎉 typed in telnet');
  await crlf.waitFor('<tomo> 本ナダ🎉 typed in telnet');
  await plain.type('nc says 本ナダ🎉');
  await tel.waitFor('<nadia> nc says 本ナダ🎉');
  await crlf.type('nc -C says 本ナダ🎉');
  await tel.waitFor('<carl> nc -C says 本ナダ🎉');
  await tel.type('/join #日本');
  await tel.waitFor('You joined #日本 ');
  expect(server.hub.room('#日本')).toBeDefined();
  const names = server.hub.rooms.list().map((r) => r.name);
  expect(names.some((n) => n.includes('\uFFFD'))).toBe(false);
  for (const pane of [plain, crlf]) expect(await pane.capture()).not.toMatch(/\uFFFD/);
});

test('long lines wrap to the telnet window under the text; a resize rewraps later lines', async () => {
  await plain.type('/join #日本');
  await plain.waitFor('You joined #日本');
  const words = 'a long line that the telnet user sees wrapped under the text after the name';
  await plain.type(`first: ${words}`);
  await tel.waitFor(/after the\s+name/);
  let lines = block(await rows(tel), /<nadia> first:/, /name$/);
  const indent = (lines[0] as string).indexOf('first:');
  expect(lines.length).toBeGreaterThan(1);
  for (const r of lines) expect(displayWidth(r)).toBeLessThanOrEqual(50);
  for (const r of lines.slice(1)) expect(r.slice(0, indent)).toBe(' '.repeat(indent));

  await resize(tel, 36);
  const deadline = Date.now() + 10_000;
  while (server.hub.find('tomo')!.caps !== 36 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await plain.type(`second: ${words}`);
  await tel.waitFor(/second:[\s\S]*name$/);
  lines = block(await rows(tel), /<nadia> second:/, /name$/);
  // Narrower now: more rows, none wider than 36, still under the text.
  expect(lines.length).toBeGreaterThan(3);
  for (const r of lines) expect(displayWidth(r)).toBeLessThanOrEqual(36);
  for (const r of lines.slice(1)) expect(r.slice(0, indent)).toBe(' '.repeat(indent));
});
