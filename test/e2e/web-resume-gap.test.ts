/**
 * A resume whose gap is larger than the replay (Chromium): the page shows the newest
 * --resume-limit messages and, above them, a notice saying how many are left out, with a
 * button that loads them through the history paging, a page a click, each in its place and
 * once, until the hole is closed and the notice goes.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import { buildWeb, haveChromium, launch, networkGate, seeLine, signIn, watch } from './browser.js';

/** Every line of the visible log, time of day left out, in the order shown. */
function pageLines(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('.log:not([hidden]) .line')].map((li) =>
      [...li.childNodes]
        .filter((n) => n.nodeName !== 'TIME')
        .map((n) => n.textContent ?? '')
        .join('')
        .trim(),
    ),
  );
}

const SHOTS = process.env.PLUGBOARD_SHOTS_DIR;

describe.skipIf(!haveChromium)('a resume gap in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  beforeAll(async () => {
    buildWeb();
    server = await startTestServer([
      ...['--http-port', '0', '--flood-rate', '0', '--resume-limit', '5'],
    ]);
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('the notice loads the hole a page at a time, in place, once each, then goes', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    const seen = watch(page);
    const network = await networkGate(page);
    const line = portOf(server, 'line');
    await signIn(page, portOf(server, 'http'), 'gapper');
    const talker = await LineClient.named(line, 'talker');
    talker.send('you saw this one');
    await seeLine(page, 'you saw this one');

    await network.cut();
    await talker.expect(/^\* gapper left/);
    const missed = Array.from({ length: 60 }, (_, i) => `missed ${i}`);
    for (const t of missed) talker.send(t);
    const check = await LineClient.named(line, 'check');
    check.send('/history 1');
    await check.expect(/<talker> missed 59$/);
    network.restore();
    await seeLine(page, 'missed 59', 60_000);

    const said = (from: number) => missed.slice(from).map((t) => `talker ${t}`);
    const tail = async () => {
      const lines = await pageLines(page);
      // Messages and the notice, from the last one seen before the drop (not "Reconnected.").
      return lines
        .slice(lines.findIndex((l) => l.endsWith('you saw this one')))
        .filter((l) => l.startsWith('talker ') || l.includes('while you were away'));
    };
    // The replay: five, and the hole above them with its button.
    expect(await tail()).toEqual([
      'talker you saw this one',
      '55 earlier messages from while you were away are not shown (60 missed in all) Load 50 more',
      ...said(55),
    ]);

    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'resume-gap.png') });
    }
    // One click: the newest 50 of the hole, in place; 5 are left.
    await page.click('.log:not([hidden]) .gap-load');
    // The notice itself, loaded ("5 earlier", not the "55 earlier … Loading…" before it).
    await page.waitForFunction(() => {
      const text = document.querySelector('.log:not([hidden]) .gap')?.textContent ?? '';
      return text.startsWith('5 earlier messages') && !text.includes('Loading');
    });
    if (SHOTS) {
      await page.evaluate(() =>
        document.querySelector('.gap')?.scrollIntoView({ block: 'center' }),
      );
      await page.screenshot({ path: join(SHOTS, 'resume-gap-paged.png') });
    }
    expect(await tail()).toEqual([
      'talker you saw this one',
      '5 earlier messages from while you were away are not shown (60 missed in all) Load them',
      ...said(5),
    ]);

    // Again: the rest, and the notice goes.
    await page.click('.log:not([hidden]) .gap-load');
    await page.waitForFunction(() => document.querySelector('.log:not([hidden]) .gap') === null);
    expect(await tail()).toEqual(['talker you saw this one', ...said(0)]);

    // And life goes on below, live.
    talker.send('welcome back');
    await seeLine(page, 'welcome back');
    expect((await tail()).slice(-2)).toEqual(['talker missed 59', 'talker welcome back']);
    expect(seen.errors).toEqual([]);
    talker.close();
    check.close();
    await page.close();
  }, 90_000);
});
