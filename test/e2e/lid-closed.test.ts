/**
 * "You close a laptop's lid, as it were" (issue 14): a browser tab, the terminal client,
 * irssi and nc each lose their connection while others talk, the server restarts once,
 * and when they come back each shows exactly what it missed, in order, once.
 *
 * - the tab's WebSocket goes through a gate (playwright's routeWebSocket): shut, its
 *   connection drops and every retry fails, as with no network;
 * - the terminal client and irssi are stopped (SIGSTOP) and continued (SIGCONT), as a
 *   sleeping laptop; irssi then reconnects by itself (server_reconnect_time) and rejoins;
 * - nc is ended and started again under the same name, as a person would.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LineClient } from '../helpers/line-client.js';
import {
  CLI,
  terminalClientPid,
  freePort,
  spawnServer,
  type ServerProcess,
} from '../helpers/process.js';
import { requirePrograms, Tmux, type Pane } from '../helpers/tmux.js';
import { buildWeb, haveChromium, launch, networkGate, signIn, watch } from './browser.js';

const SHOTS = process.env.PLUGBOARD_SHOTS_DIR;

/** Every chat line text of the page's visible log, in the order shown. */
function pageLines(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('.log:not([hidden]) .line')].map((li) => li.textContent ?? ''),
  );
}

/** How often each expected text occurs on a screen or page, in order of first appearance. */
function occurrences(lines: string[], texts: string[]): { order: number[]; counts: number[] } {
  const counts = texts.map((t) => lines.filter((l) => l.endsWith(t)).length);
  const order = texts.map((t) => lines.findIndex((l) => l.endsWith(t)));
  return { order, counts };
}

describe.skipIf(!haveChromium)(
  'laptop lid: browser, terminal client and nc across a restart',
  () => {
    let server: ServerProcess | undefined;
    let browser: Browser;
    const tmux = new Tmux('lid');
    beforeAll(async () => {
      requirePrograms('tmux', 'nc');
      buildWeb();
      browser = await launch();
    });
    afterAll(async () => {
      await browser?.close();
      if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
      await tmux.close();
    });

    /**
     * irssi with its own home: connects to the IRC port and joins #lobby by itself (also
     * after a lost connection, 1 s later), and logs #lobby to a file.
     */
    async function openIrssi(irc: number): Promise<{ pane: Pane; pid: number; log: string }> {
      const home = tmux.scratch('irssi-lid');
      writeFileSync(
        join(home, 'config'),
        [
          'settings = {',
          '  core = { real_name = "ircy"; user_name = "ircy"; nick = "ircy"; server_reconnect_time = "1"; };',
          '  "irc/core" = { skip_motd = "yes"; };',
          `  "fe-common/core" = { autolog = "yes"; autolog_path = "${home}/$0.log"; };`,
          '};',
          `servers = ( { address = "127.0.0.1"; port = "${irc}"; chatnet = "pb"; autoconnect = "yes"; } );`,
          'chatnets = { pb = { type = "IRC"; }; };',
          'channels = ( { name = "#lobby"; chatnet = "pb"; autojoin = "yes"; } );',
          '',
        ].join('\n'),
      );
      const pane = await tmux.open('irssi-lid', ['irssi', `--home=${home}`], { HOME: home });
      // The channel opens in window 2 (the status window stays 1).
      await pane.waitFor('Mode change [+i] for user ircy');
      for (let tries = 0; ; tries++) {
        await pane.keys('M-2');
        try {
          await pane.waitFor(/-!- ircy \[\S+\] has joined #lobby/, 1000);
          break;
        } catch (err) {
          if (tries === 10) throw err;
        }
      }
      const pid = Number(
        execFileSync('pgrep', ['-f', `^irssi --home=${home}$`], { encoding: 'utf8' }).trim(),
      );
      return { pane, pid, log: join(home, '#lobby.log') };
    }

    test('each shows exactly what it missed, in order, once', { timeout: 120_000 }, async () => {
      const dir = join(tmux.dir, 'data');
      mkdirSync(dir);
      const [line, framed, http, irc] = [
        await freePort(),
        await freePort(),
        await freePort(),
        await freePort(),
      ];
      const args = [
        ...['--line-port', String(line), '--framed-port', String(framed)],
        ...['--http-port', String(http), '--irc-port', String(irc), '--udp-port', '-1'],
        ...['--store', 'sqlite', '--flood-rate', '0', '--name-hold', '120'],
      ];
      server = await spawnServer(args, {}, dir);

      // The tab, through a gate that can cut its network.
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const seen = watch(page);
      const network = await networkGate(page);
      await signIn(page, http, 'webby');

      const term = await tmux.open('term', [
        process.execPath,
        CLI,
        'connect',
        `127.0.0.1:${framed}`,
        '--name',
        'termy',
        '--no-color',
      ]);
      await term.waitFor('* You joined #lobby');
      let nc: Pane = await tmux.open('nc1', ['nc', '127.0.0.1', String(line)]);
      await nc.waitFor(/Choose a name:$/m);
      await nc.type('ncuser');
      await nc.waitFor('* Welcome, ncuser!');

      const irssi = await openIrssi(irc);

      let talker = await LineClient.named(line, 'talker');
      const before = ['seen 0', 'seen 1', 'seen 2'];
      for (const t of before) talker.send(t);
      await term.waitFor(`<talker> ${before[2]}`);
      await irssi.pane.waitFor(`< talker> ${before[2]}`);
      await nc.waitFor(`<talker> ${before[2]}`);
      await page.waitForFunction(
        (t) => [...document.querySelectorAll('.line')].some((l) => l.textContent?.endsWith(t)),
        before[2]!,
      );

      // Lids close.
      await network.cut();
      const termPid = terminalClientPid(`127.0.0.1:${framed}`, 'termy');
      process.kill(termPid, 'SIGSTOP');
      process.kill(irssi.pid, 'SIGSTOP');
      await nc.keys('C-c');
      // The server notices both drops (in either order); the stopped client it cannot notice.
      const gone = (who: string) => talker.lines.some((l) => l.startsWith(`* ${who} left`));
      for (const deadline = Date.now() + 20_000; !(gone('ncuser') && gone('webby'));) {
        if (Date.now() > deadline) throw new Error(`drops not seen:\n${talker.lines.join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }

      // Others talk, the server restarts, they talk more.
      const away = Array.from({ length: 20 }, (_, i) => `while away ${i}`);
      for (const t of away.slice(0, 10)) talker.send(t);
      const check = await LineClient.named(line, 'check');
      check.send('/history 1');
      await check.expect(/<talker> while away 9$/);
      check.close();
      talker.close();
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      server = await spawnServer(args, {}, dir);
      talker = await LineClient.named(line, 'talker');
      for (const t of away.slice(10)) talker.send(t);
      const check2 = await LineClient.named(line, 'check');
      check2.send('/history 1');
      await check2.expect(/<talker> while away 19$/);
      check2.close();

      // Lids open.
      network.restore();
      process.kill(termPid, 'SIGCONT');
      process.kill(irssi.pid, 'SIGCONT');
      nc = await tmux.open('nc2', ['nc', '127.0.0.1', String(line)]);
      await nc.waitFor(/Choose a name:$/m);
      await nc.type('ncuser');
      await nc.waitFor(/You missed 20 messages in #lobby since \d\d:\d\d — \/since to read them/);
      await nc.type('/since');
      await nc.waitFor(`<talker> ${away[19]}`);

      await term.waitFor(/Reconnected to 127\.0\.0\.1/, 30_000);
      await term.waitFor(`<talker> ${away[19]}`);
      await page.waitForFunction(
        (t) => [...document.querySelectorAll('.line')].some((l) => l.textContent?.endsWith(t)),
        away[19]!,
        { timeout: 60_000 },
      );
      // irssi finds its connection gone, reconnects by itself and rejoins #lobby.
      await irssi.pane.waitFor(`< talker> [`, 30_000);
      await irssi.pane.waitFor(`] ${away[19]}`, 30_000);
      // And life goes on, live.
      talker.send('welcome back everyone');
      await term.waitFor('<talker> welcome back everyone');
      await irssi.pane.waitFor('< talker> welcome back everyone');
      await nc.waitFor('<talker> welcome back everyone');
      await page.waitForFunction(() =>
        [...document.querySelectorAll('.line')].some((l) =>
          l.textContent?.endsWith('welcome back everyone'),
        ),
      );

      const all = [...before, ...away, 'welcome back everyone'];
      const termScreen = (await term.capture()).split('\n');
      const ncScreen = (await nc.capture()).split('\n');
      const webLines = await pageLines(page);
      if (SHOTS) {
        mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: join(SHOTS, 'lid-web.png') });
        writeFileSync(join(SHOTS, 'lid-term.txt'), termScreen.join('\n'));
        writeFileSync(join(SHOTS, 'lid-nc.txt'), ncScreen.join('\n'));
      }
      const ascending = (order: number[]) =>
        order.every((v, i) => i === 0 || v > (order[i - 1] ?? -1));

      // The terminal client: each line once, in order, under its own name.
      const t = occurrences(termScreen, all);
      expect(t.counts).toEqual(all.map(() => 1));
      expect(ascending(t.order)).toBe(true);
      // Stopped, not cut off: the kernel kept what came before the shutdown (read on SIGCONT),
      // and the replay after the restart is exactly the rest (the counts above). How much the
      // kernel kept depends on timing (on a loaded machine it may be all of it); when a
      // replay came, it says how many.
      const replayed = /\* (\d+) messages? in #lobby while you were away:/.exec(
        termScreen.join('\n'),
      );
      if (replayed) expect(Number(replayed[1])).toBeGreaterThan(0);
      expect(termScreen.at(-1)).toMatch(/^\[termy@#lobby\]>/);
      // The page: each once, in order, and still called webby.
      const w = occurrences(webLines, all);
      expect(w.counts).toEqual(all.map(() => 1));
      expect(ascending(w.order)).toBe(true);
      expect(await page.textContent('#me')).toBe('webby');
      // irssi's log of #lobby (all of it, not just a screen): each once, in order; what
      // came after the restart was replayed on its rejoin, announced with its count.
      const ircLog = readFileSync(irssi.log, 'utf8').split('\n');
      if (SHOTS) writeFileSync(join(SHOTS, 'lid-irssi.txt'), ircLog.join('\n'));
      const i = occurrences(ircLog, all);
      expect(i.counts, ircLog.join('\n')).toEqual(all.map(() => 1));
      expect(ascending(i.order)).toBe(true);
      const missed = /You missed (\d+) messages? in #lobby, since /.exec(ircLog.join('\n'));
      expect(Number(missed?.[1]), ircLog.join('\n')).toBeGreaterThanOrEqual(10);
      // nc's second session: the missed ones from /since, once each, in order.
      const n = occurrences(ncScreen, [...away, 'welcome back everyone']);
      expect(n.counts).toEqual([...away, 'x'].map(() => 1));
      expect(ascending(n.order)).toBe(true);
      expect(seen.errors).toEqual([]);
      talker.close();
      await page.close();
    });

    test('a gap longer than the replay: the newest messages in order, and a line saying how many are left out', async () => {
      const dir = join(tmux.dir, 'gap');
      mkdirSync(dir);
      const [line, http] = [await freePort(), await freePort()];
      const gapServer = await spawnServer(
        [
          ...['--line-port', String(line), '--http-port', String(http), '--framed-port', '-1'],
          ...['--irc-port', '-1', '--udp-port', '-1', '--store', 'sqlite', '--flood-rate', '0'],
          ...['--resume-limit', '5'],
        ],
        {},
        dir,
      );
      const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
      try {
        const network = await networkGate(page);
        await signIn(page, http, 'gapper');
        const talker = await LineClient.named(line, 'talker');
        talker.send('you saw this one');
        await page.waitForFunction(() =>
          [...document.querySelectorAll('.line')].some((l) =>
            l.textContent?.endsWith('you saw this one'),
          ),
        );
        await network.cut();
        await talker.expect(/^\* gapper left/);
        for (let i = 0; i < 12; i++) talker.send(`missed ${i}`);
        const check = await LineClient.named(line, 'check');
        check.send('/history 1');
        await check.expect(/<talker> missed 11$/);
        network.restore();
        await page.waitForFunction(
          () =>
            [...document.querySelectorAll('.line')].some((l) =>
              l.textContent?.endsWith('missed 11'),
            ),
          undefined,
          { timeout: 60_000 },
        );
        await new Promise((r) => setTimeout(r, 500)); // whatever else might still arrive
        const lines = (await pageLines(page)).map((l) => l.replace(/^\d\d:\d\d\s?[AP]M/, ''));
        const from = lines.findIndex((l) => l.endsWith('you saw this one'));
        expect(lines.slice(from + 1, from + 7)).toEqual([
          '7 earlier messages from while you were away are not shown (12 missed in all) Load them',
          ...[7, 8, 9, 10, 11].map((i) => `talker missed ${i}`),
        ]);
        // The five and nothing else of the twelve: the hole is said, not half filled (its
        // button loads it: web-resume-gap.test.ts).
        expect(lines.filter((l) => /missed \d+$/.test(l))).toHaveLength(5);
        talker.close();
        check.close();
      } finally {
        await page.close();
        gapServer.child.kill('SIGTERM');
        await gapServer.exited;
      }
    }, 90_000);
  },
);
