/**
 * Searching from the web page in Chromium: the box in the top bar and `/search` in the
 * composer open a panel of matches (room, time, who, text) newest first, "Older matches"
 * pages on, a room the reader is not in stays out, nothing found and a search of no words
 * are said, and pressing a match opens its room. Text from others stays text.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import { buildWeb, haveChromium, launch, say, signIn, watch } from './browser.js';

async function hitTexts(page: Page): Promise<string[]> {
  return page.$$eval('#search-results .search-hit', (els) =>
    els.map((e) => {
      const where = e.querySelector('.search-where')?.textContent ?? '';
      return `${where} | ${e.querySelector('.search-text')?.textContent ?? ''}`;
    }),
  );
}

describe.skipIf(!haveChromium)('web search in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let http: number;
  let nc: LineClient;

  beforeAll(async () => {
    buildWeb();
    server = await startTestServer([
      '--store',
      'sqlite',
      '--http-port',
      '0',
      '--flood-rate',
      '0',
      '--search-page',
      '5',
    ]);
    http = portOf(server, 'http');
    nc = await LineClient.named(portOf(server, 'line'), 'nadia');
    for (let i = 1; i <= 7; i++) nc.send(`the kettle is on, round ${i}`);
    nc.send('<img src=x onerror=alert(1)> kettle markup');
    nc.send('/join #private-kitchen');
    nc.send('kettle talk the reader never joined');
    nc.send('/switch #lobby');
    await nc.expect(/Your current room is now #lobby/);
    browser = await launch();
  });

  afterAll(async () => {
    nc?.close();
    await browser?.close();
    await server?.close();
  });

  test('the search box finds, pages, leaves out rooms the reader is not in, and opens a room', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
    const seen = watch(page);
    await signIn(page, http, 'wren');
    await page.fill('#search-input', 'KETTLE');
    await page.press('#search-input', 'Enter');
    await page.waitForSelector('#search-panel:not([hidden]) .search-hit');
    expect(await hitTexts(page)).toEqual([
      '#lobby | nadia: <img src=x onerror=alert(1)> kettle markup',
      '#lobby | nadia: the kettle is on, round 7',
      '#lobby | nadia: the kettle is on, round 6',
      '#lobby | nadia: the kettle is on, round 5',
      '#lobby | nadia: the kettle is on, round 4',
    ]);
    expect(await page.textContent('#search-status')).toBe(
      '5 messages for “kettle”, newest first (more below).',
    );
    // Each match says when, as a machine-readable time too.
    const stamp = await page.getAttribute('#search-results time', 'datetime');
    expect(Date.parse(stamp ?? '')).toBeGreaterThan(Date.now() - 60_000);
    await page.screenshot({ path: join(tmpdir(), 'plugboard-web-search.png') });
    await page.click('#search-more');
    await page.waitForFunction(
      () => document.querySelectorAll('#search-results .search-hit').length === 8,
    );
    expect((await hitTexts(page)).slice(5)).toEqual([
      '#lobby | nadia: the kettle is on, round 3',
      '#lobby | nadia: the kettle is on, round 2',
      '#lobby | nadia: the kettle is on, round 1',
    ]);
    expect(await page.isHidden('#search-more')).toBe(true);
    expect(await page.textContent('#search-status')).toBe('8 messages for “kettle”, newest first.');
    // The markup in a message is text: no element, no dialog.
    expect(await page.$$('#search-results img')).toEqual([]);
    // Pressing a match goes to its room and closes the panel.
    await page.click('#search-results .search-hit >> nth=2');
    await page.waitForSelector('#search-panel', { state: 'hidden' });
    expect(await page.textContent('#view-name')).toBe('#lobby');
    expect(seen.errors).toEqual([]);
    expect(seen.dialogs).toEqual([]);
    await page.close();
  });

  test('/search in the composer; nothing found and no words are said in the panel', async () => {
    const page = await browser.newPage();
    const seen = watch(page);
    await signIn(page, http, 'quill');
    await say(page, '/search teapot');
    await page.waitForFunction(() =>
      (document.querySelector('#search-status')?.textContent ?? '').startsWith('Nothing found'),
    );
    expect(await page.textContent('#search-status')).toBe(
      'Nothing found for “teapot” in your rooms and private chats.',
    );
    expect(await page.inputValue('#search-input')).toBe('teapot');
    await page.fill('#search-input', '*** ???');
    await page.press('#search-input', 'Enter');
    await page.waitForSelector('#search-status.error');
    expect(await page.textContent('#search-status')).toBe(
      'Nothing to search for: give at least one word (letters or digits)',
    );
    // Escape closes the panel and typing goes back to the composer.
    await page.press('#search-input', 'Escape');
    await page.waitForSelector('#search-panel', { state: 'hidden' });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('input');
    expect(seen.errors).toEqual([]);
    await page.close();
  });
});
