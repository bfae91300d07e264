/**
 * A real conversation (telnet, IRC and two browsers) photographed at desktop and phone
 * sizes. PLUGBOARD_SCREENSHOTS=1 writes docs/screenshots/*.png for the README; otherwise
 * the pictures go to a temporary directory and only the layout checks run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { buildWeb, haveChromium, launch, say, seeLine, signIn, watch } from './browser.js';
import { RawIrcClient } from '../helpers/irc-client.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

const OUT = process.env.PLUGBOARD_SCREENSHOTS
  ? join(import.meta.dirname, '../../docs/screenshots')
  : mkdtempSync(join(tmpdir(), 'plugboard-shots-'));

/**
 * Same zone and locale every run, so the pictures do not change with the machine. The
 * phone reads a 12-hour clock ("09:41 PM"), which needs a wider time column than "21:41".
 */
const CONTEXT = { timezoneId: 'Europe/Berlin', locale: 'en-GB' };
const PHONE_CONTEXT = { timezoneId: 'America/New_York', locale: 'en-US' };

async function noHorizontalOverflow(page: Page): Promise<void> {
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > innerWidth + 1);
  expect(wide).toBe(false);
}

/** Every time stamp ends before the name or text beside it begins (no overlap). */
async function timesFit(page: Page): Promise<void> {
  const overlaps = await page.evaluate(() =>
    [...document.querySelectorAll('.log:not([hidden]) .line')].flatMap((li) => {
      const time = li.querySelector('time');
      const next = time?.nextElementSibling;
      if (!time || !next) return [];
      const right = time.getBoundingClientRect().right;
      const left = next.getClientRects()[0]?.left ?? Infinity;
      return right > left + 0.5 ? [li.textContent ?? ''] : [];
    }),
  );
  expect(overlaps).toEqual([]);
}

describe.skipIf(!haveChromium)('screenshots', () => {
  let server: RunningServer;
  let browser: Browser;
  let http: number;
  beforeAll(async () => {
    buildWeb();
    server = await startTestServer([
      '--http-port',
      '0',
      '--irc-port',
      '0',
      '--flood-rate',
      '0',
      '--history-on-join',
      '50',
    ]);
    http = portOf(server, 'http');
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('desktop and phone layouts with a real conversation', async () => {
    const line = portOf(server, 'line');
    const carol = await LineClient.named(line, 'carol');
    const irc = server.addresses().irc
      ? await RawIrcClient.register(portOf(server, 'irc'), 'dave')
      : null;
    irc?.send('JOIN #lobby');
    await irc?.expect(/ 366 /);
    carol.send('/topic Plugboard: telnet, IRC and the web, one room');
    await carol.expect(/topic/i);

    const desk = await browser.newContext({ ...CONTEXT, viewport: { width: 1280, height: 800 } });
    const alice = await desk.newPage();
    const seen = watch(alice);
    await signIn(alice, http, 'alice');
    const bobCtx = await browser.newContext(CONTEXT);
    const bob = await bobCtx.newPage();
    await signIn(bob, http, 'bob');

    carol.send('morning all! I am on plain old netcat today');
    await seeLine(alice, 'plain old netcat');
    irc?.send(
      'PRIVMSG #lobby :and I am in irssi. The build is green: https://example.com/builds/1042',
    );
    if (irc) await seeLine(alice, 'irssi');
    await say(alice, 'Hi carol, hi dave! Writing from Chromium.');
    await say(bob, '/me brings coffee ☕');
    await say(bob, 'alice: did you see the new release notes?');
    carol.send('a very long word, to show wrapping: ' + 'supercalifragilistic'.repeat(6));
    await say(alice, '<img src=x onerror=alert(1)> stays text, as it should');
    await seeLine(alice, 'stays text');
    // Activity elsewhere: a second room and a private message give unread badges.
    await say(bob, '/join #dev');
    await seeLine(bob, 'You joined #dev');
    await say(bob, 'deploy at 15:00?');
    await say(alice, '/join #dev');
    await seeLine(alice, 'deploy at 15:00');
    await say(alice, '/join #lobby');
    await say(bob, 'ping @alice: the staging server is ready');
    await say(bob, '/msg alice lunch later?');
    await alice.waitForFunction(() => document.querySelector('[data-view="bob"] .badge') !== null);
    await alice.waitForFunction(() => document.querySelector('[data-view="#dev"] .badge') !== null);
    await alice.mouse.move(0, 799); // no hover highlight in the picture
    await alice.screenshot({ path: join(OUT, 'desktop.png') });
    await noHorizontalOverflow(alice);
    await timesFit(alice);
    // The private chat, in the dark theme (prefers-color-scheme), as a second desktop view.
    await alice.emulateMedia({ colorScheme: 'dark' });
    await alice.click('[data-view="bob"]');
    await seeLine(alice, 'lunch later?');
    await say(alice, 'sure, 12:30 at the usual place?');
    await seeLine(alice, '12:30');
    await alice.mouse.move(0, 799);
    await alice.screenshot({ path: join(OUT, 'desktop-dark.png') });

    const phoneCtx = await browser.newContext({
      ...PHONE_CONTEXT,
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const erin = await phoneCtx.newPage();
    await signIn(erin, http, 'erin');
    await seeLine(erin, 'release notes');
    await say(erin, 'joining from my phone, on the train');
    await seeLine(erin, 'from my phone');
    // A private message waits behind the rooms button, which says so.
    await say(bob, '/msg erin welcome aboard! the slides are in #dev');
    await erin.waitForSelector('#rooms-unread:not([hidden])');
    await erin.screenshot({ path: join(OUT, 'phone.png') });
    await noHorizontalOverflow(erin);
    await timesFit(erin);
    await erin.click('#toggle-rooms');
    await erin.waitForTimeout(300); // the drawer's slide-in
    await erin.screenshot({ path: join(OUT, 'phone-rooms.png') });

    expect(seen.errors).toEqual([]);
    expect(seen.dialogs).toEqual([]);
    carol.close();
    irc?.close();
    await desk.close();
    await bobCtx.close();
    await phoneCtx.close();
  });
});
