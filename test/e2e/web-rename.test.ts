/**
 * A room renamed while the web page (Chromium) is in it: the page moves the room in its
 * list to the new name, keeps its history and its unread count, goes on talking there,
 * and after a reload rejoins it under the new name.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { buildWeb, haveChromium, launch, say, seeLine, signIn, watch } from './browser.js';
import { RawIrcClient } from '../helpers/irc-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

describe.skipIf(!haveChromium)('a rename in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  beforeAll(async () => {
    buildWeb();
    server = await startTestServer(['--http-port', '0', '--irc-port', '0', '--flood-rate', '0']);
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const sidebar = (page: Page) =>
    page.evaluate(() =>
      [...document.querySelectorAll('button.item[data-view]')].map((b) => ({
        view: b.getAttribute('data-view'),
        badge: b.querySelector('.badge')?.textContent ?? null,
      })),
    );

  test('the room moves in the list with its history and unread count', async () => {
    const page = await browser.newPage();
    const seen = watch(page);
    await signIn(page, portOf(server, 'http'), 'webren');
    const op = await RawIrcClient.register(portOf(server, 'irc'), 'renop');
    op.send('JOIN #webold');
    await op.expect(/ 366 /);
    op.send('PRIVMSG #webold :history before the rename');
    await say(page, '/join #webold');
    await page.waitForFunction(
      () => document.querySelector('#view-name')?.textContent === '#webold',
    );
    await seeLine(page, 'history before the rename');
    // Reading another room: what #webold says meanwhile is unread.
    await say(page, '/join #webside');
    await page.waitForFunction(
      () => document.querySelector('#view-name')?.textContent === '#webside',
    );
    op.send('PRIVMSG #webold :unread one');
    op.send('PRIVMSG #webold :unread two');
    await page.waitForFunction(
      () => document.querySelector('button.item[data-view="#webold"] .badge')?.textContent === '2',
    );
    op.send('RENAME #webold #webnew :a better name');
    await page.waitForFunction(
      () => document.querySelector('button.item[data-view="#webnew"]') !== null,
    );
    const items = await sidebar(page);
    expect(items.find((i) => i.view === '#webold')).toBeUndefined();
    expect(items.find((i) => i.view === '#webnew')?.badge).toBe('2');
    // Its history is there, with the rename said in it.
    await page.click('button.item[data-view="#webnew"]');
    await page.waitForFunction(
      () => document.querySelector('#view-name')?.textContent === '#webnew',
    );
    await seeLine(page, 'history before the rename');
    await seeLine(page, 'unread two');
    await seeLine(page, '#webold is now #webnew (renamed by renop: a better name)');
    // Talking goes to the new name.
    await say(page, 'hello under the new name');
    await op.expect(/PRIVMSG #webnew :hello under the new name$/);
    // Back after a reload (the page rejoins its remembered rooms): under the new name.
    await signIn(page, portOf(server, 'http'), 'webren');
    await page.waitForFunction(
      () => document.querySelector('button.item[data-view="#webnew"]') !== null,
    );
    expect((await sidebar(page)).find((i) => i.view === '#webold')).toBeUndefined();
    await page.click('button.item[data-view="#webnew"]');
    await seeLine(page, 'history before the rename');
    expect(seen.errors).toEqual([]);
    op.close();
    await page.close();
  });
});
