/**
 * The operator console of `serve --workers 2` on a real terminal (tmux): the primary reads
 * the commands and answers for the whole host; Ctrl-C stops every worker. Also the first
 * test of the console on a terminal at all: it used to crash at start there (the pretty
 * logger's destination was not a stream).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { LineClient } from '../helpers/line-client.js';
import { CLI } from '../helpers/process.js';
import { requirePrograms, Tmux } from '../helpers/tmux.js';

let tmux: Tmux | null = null;
afterEach(async () => {
  await tmux?.close();
  tmux = null;
});

test('console on a terminal: /stats and /who for the host, Ctrl-C stops all, exit 0', async () => {
  requirePrograms('tmux');
  tmux = new Tmux('workers');
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-console-'));
  const ready = join(dir, 'ready.json');
  const serve = [
    process.execPath,
    CLI,
    'serve',
    '--workers',
    '2',
    '--store',
    'memory',
    '--data-dir',
    dir,
    '--ready-file',
    ready,
    '--line-port',
    '0',
    ...['--framed-port', '-1', '--irc-port', '-1', '--http-port', '-1', '--udp-port', '-1'],
    '--log-level',
    'warn',
  ];
  // `sh -c` so the exit status stays on the screen after the server is gone.
  const pane = await tmux.open('serve', ['sh', '-c', '"$@"; echo "exit=$?"', 'sh', ...serve], {
    PLUGBOARD_TEST_UNSHARED_WORKERS: '1',
  });
  await pane.waitFor(/^plugboard>/m);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      readFileSync(ready);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const port = (JSON.parse(readFileSync(ready, 'utf8')) as { line: { port: number } }).line.port;
  const ann = await LineClient.named(port, 'ann');
  const ben = await LineClient.named(port, 'ben');

  await pane.type('/stats');
  await pane.waitFor(/^host: 2 workers, 2 serving; connections 2 \(line=2\)/m);
  // The answer is printed line by line: wait for the last worker's block, not only the head.
  const stats = await pane.waitFor(/^worker 2 \(pid \d+, node \w+, restarts 0\): connections 1$/m);
  expect(stats).toMatch(/^worker 1 \(pid \d+, node \w+, restarts 0\): connections 1$/m);
  await pane.type('/who');
  await pane.waitFor(/^ {2}ann line 127\.0\.0\.1 #lobby$/m);
  await pane.waitFor(/^ {2}ben line 127\.0\.0\.1 #lobby$/m);

  await pane.keys('C-c');
  await ann.expect(/^\* server shutting down$/);
  await ben.expect(/^\* server shutting down$/);
  await pane.waitFor(/^exit=0$/m);
}, 120_000);
