/**
 * What a new user of the page runs into first: the phone's drawers and the keyboard, /help,
 * and what the page shows as current while it is offline. Real Chromium, real servers.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { buildWeb, haveChromium, launch, say, seeLine, signIn, watch } from './browser.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

const PHONE = { viewport: { width: 390, height: 760 }, isMobile: true, hasTouch: true };

/** The id of the focused element, or of the nearest ancestor that has one. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => document.activeElement?.closest('[id]')?.id ?? '');
}

/** Whether the element is inside an element with the given id. */
function focusIn(page: Page, id: string): Promise<boolean> {
  return page.evaluate(
    (panel) => document.getElementById(panel)?.contains(document.activeElement) ?? false,
    id,
  );
}

describe.skipIf(!haveChromium)('web client: first use', () => {
  let server: RunningServer;
  let browser: Browser;
  let http: number;
  beforeAll(async () => {
    buildWeb();
    server = await startTestServer(['--http-port', '0', '--flood-rate', '0']);
    http = portOf(server, 'http');
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('on a phone, Escape closes either drawer and typing resumes in the composer', async () => {
    const ctx = await browser.newContext(PHONE);
    const page = await ctx.newPage();
    const seen = watch(page);
    await signIn(page, http, 'thumbs');
    const nc = await LineClient.named(portOf(server, 'line'), 'chatty');
    const classes = () => page.evaluate(() => document.getElementById('app')?.className);

    for (const [drawer, panel] of [
      ['rooms', 'sidebar'],
      ['members', 'members'],
    ] as const) {
      // Closed, the drawer is out of the Tab order as well as off screen.
      expect(await page.evaluate((id) => document.getElementById(id)?.inert, panel)).toBe(true);
      await page.click(`#toggle-${drawer}`);
      expect(await classes()).toContain(`show-${drawer}`);
      expect(await page.getAttribute(`#toggle-${drawer}`, 'aria-expanded')).toBe('true');
      // Opening moves the keyboard into the drawer.
      expect(await focusIn(page, panel)).toBe(true);
      if (drawer === 'rooms') {
        // The lists are redrawn as messages arrive; the focus stays where it was.
        nc.send(`a message while the ${drawer} drawer is open`);
        await seeLine(page, `while the ${drawer} drawer is open`);
        await page.waitForTimeout(100);
        expect(await focusIn(page, panel)).toBe(true);
      }
      await page.keyboard.press('Escape');
      expect(await classes()).not.toContain(`show-${drawer}`);
      expect(await page.getAttribute(`#toggle-${drawer}`, 'aria-expanded')).toBe('false');
      expect(await focused(page)).toBe('input');
      expect(await page.evaluate((id) => document.getElementById(id)?.inert, panel)).toBe(true);
      // The drawer slid away: nothing of it is on screen.
      await page.waitForFunction(
        (id) =>
          (document.getElementById(id)?.getBoundingClientRect().right ?? 1) <= 0.5 ||
          (document.getElementById(id)?.getBoundingClientRect().left ?? 0) >= innerWidth - 0.5,
        panel,
      );
    }
    // Typing after Escape goes where it should.
    await page.keyboard.type('typed after escape');
    expect(await page.inputValue('#input')).toBe('typed after escape');

    // Tapping the dimmed page closes a drawer too, handing focus back to its button.
    await page.click('#toggle-rooms');
    await page.mouse.click(380, 400);
    expect(await classes()).not.toContain('show-rooms');
    expect(await focused(page)).toBe('toggle-rooms');
    expect(seen.errors).toEqual([]);
    nc.close();
    await ctx.close();
  });

  test('/help is one block: one time, a command and what it does per row', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    const seen = watch(page);
    await signIn(page, http, 'newbie');
    const lines = () =>
      page.evaluate(() => document.querySelectorAll('.log:not([hidden]) .line').length);
    const before = await lines();
    await say(page, '/help');
    await page.waitForSelector('.log:not([hidden]) .line.help');
    expect(await lines()).toBe(before + 1);
    const block = await page.evaluate(() => {
      const li = document.querySelector('.log:not([hidden]) .line.help');
      const rows = [...(li?.querySelectorAll('dt') ?? [])].map((dt) => {
        const dd = dt.nextElementSibling;
        return {
          usage: dt.textContent,
          text: dd?.textContent,
          top: [dt, dd].map((e) => e?.getBoundingClientRect().top),
        };
      });
      return { times: li?.querySelectorAll('time').length, rows };
    });
    expect(block.times).toBe(1);
    expect(block.rows.map((r) => r.usage)).toEqual(
      expect.arrayContaining([
        '/join #room',
        '/msg name text',
        '/nick name',
        '/identify [account] password',
      ]),
    );
    // Side by side: each description starts on its command's row.
    for (const r of block.rows)
      expect(Math.abs((r.top[0] ?? 0) - (r.top[1] ?? 99))).toBeLessThan(4);
    expect(seen.errors).toEqual([]);
    await page.close();
  });
});

describe.skipIf(!haveChromium)('web client: offline state', () => {
  let browser: Browser;
  beforeAll(async () => {
    buildWeb();
    browser = await launch();
  });
  afterAll(() => browser?.close());

  test('offline, the member list says it is not current; on reconnect it is renewed', async () => {
    const first = await startTestServer(['--http-port', '0']);
    const port = portOf(first, 'http');
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const seen = watch(page);
    await signIn(page, port, 'watcher');
    const ghost = await LineClient.named(portOf(first, 'line'), 'ghost');
    await page.waitForFunction(() =>
      document.querySelector('#member-list')?.textContent?.includes('ghost'),
    );
    const members = () =>
      page.evaluate(() => {
        const list = document.querySelector<HTMLElement>('#member-list');
        const note = document.querySelector<HTMLElement>('#members-status');
        return {
          names: list?.textContent ?? '',
          stale: document.getElementById('members')?.classList.contains('stale'),
          note: note && !note.hidden ? note.textContent : null,
          opacity: list ? Number(getComputedStyle(list).opacity) : 1,
          counts: [...document.querySelectorAll<HTMLElement>('#room-list .count')].map((c) =>
            Number(getComputedStyle(c).opacity),
          ),
        };
      });
    expect(await members()).toMatchObject({ stale: false, note: null, opacity: 1 });

    await first.close('maintenance');
    ghost.close();
    await page.waitForSelector('#members-status:not([hidden])');
    const offline = await members();
    expect(offline.note).toBe('offline — reconnecting…');
    expect(offline.stale).toBe(true);
    // Greyed, and the room counts beside it too: the last known list, not a live one.
    expect(offline.opacity).toBeLessThan(0.7);
    expect(offline.counts.every((o) => o < 0.7)).toBe(true);
    expect(offline.names).toContain('watcher');

    const second = await startTestServer(['--http-port', String(port)]);
    try {
      await page.waitForSelector('#members-status', { state: 'hidden', timeout: 15_000 });
      const back = await members();
      expect(back).toMatchObject({ stale: false, note: null, opacity: 1 });
      // The list is the new server's: ghost is not on it.
      expect(back.names).toContain('watcher');
      expect(back.names).not.toContain('ghost');
      expect(back.counts.every((o) => o === 1)).toBe(true);
      expect(seen.errors).toEqual([]);
    } finally {
      await page.close();
      await second.close();
    }
  });
});
