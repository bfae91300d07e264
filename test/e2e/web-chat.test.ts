import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildWeb, haveChromium, launch, say, seeLine, signIn, watch } from './browser.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

describe.skipIf(!haveChromium)('web client in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let http: number;
  let line: number;
  beforeAll(async () => {
    buildWeb();
    server = await startTestServer(['--http-port', '0', '--flood-rate', '0']);
    http = portOf(server, 'http');
    line = portOf(server, 'line');
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('two pages and a line client chat in one room', async () => {
    const a = await browser.newPage();
    const b = await browser.newPage();
    const seenA = watch(a);
    await signIn(a, http, 'alice');
    await signIn(b, http, 'bob');
    const nc = await LineClient.named(line, 'carol');
    await say(a, 'hello from alice');
    await seeLine(b, 'hello from alice');
    await nc.expect(/<alice> hello from alice/);
    nc.send('hi from the terminal');
    await seeLine(a, 'hi from the terminal');
    await seeLine(b, 'hi from the terminal');
    await say(b, '/me waves');
    await seeLine(a, '* bob waves');
    await nc.expect(/\* bob waves/);
    // Everyone is in the member list.
    await a.waitForFunction(() => {
      const t = document.querySelector('#member-list')?.textContent ?? '';
      return t.includes('alice') && t.includes('bob') && t.includes('carol');
    });
    expect(seenA.errors).toEqual([]);
    nc.close();
    await a.close();
    await b.close();
  });

  test('script injection attempts render as text', async () => {
    const page = await browser.newPage();
    const seen = watch(page);
    await signIn(page, http, 'victim');
    const nc = await LineClient.named(line, 'mallory');
    const attacks = [
      '<img src=x onerror=alert(1)>',
      '<script>alert(2)</script>',
      '<a href="javascript:alert(3)">click</a> javascript:alert(4)',
      '"><svg onload=alert(5)>',
    ];
    for (const attack of attacks) nc.send(attack);
    await say(page, '<b onmouseover=alert(6)>bold?</b>');
    for (const attack of [...attacks, '<b onmouseover=alert(6)>bold?</b>']) {
      await seeLine(page, attack).catch(async (e: Error) => {
        throw new Error(`${attack}: ${e.message}\n${await page.textContent('#logs')}`);
      });
    }
    // A topic is user text too: mallory opens a room (she is its operator) and sets one.
    nc.send('/join #evil');
    nc.send('/topic <img src=x onerror=alert(7)>');
    await nc.expect(/topic/i);
    await say(page, '/join #evil');
    await page.waitForFunction(() =>
      (document.querySelector('#view-topic')?.textContent ?? '').includes('<img'),
    );
    await page.hover('.log:not([hidden]) .line:last-child');
    await page.waitForTimeout(300);
    const inLog = await page.evaluate(() => ({
      markup: document.querySelectorAll('#app img, #app script, #app svg, #app b').length,
      links: [...document.querySelectorAll('#logs a')].map((a) => a.getAttribute('href')),
    }));
    expect(inLog.markup).toBe(0);
    expect(inLog.links).toEqual([]); // javascript: is never a link
    expect(seen.dialogs).toEqual([]);
    expect(seen.errors).toEqual([]);
    nc.close();
    await page.close();
  });

  test('a taken name is explained on the sign-in form; /nick renames', async () => {
    const first = await browser.newPage();
    await signIn(first, http, 'twin');
    const second = await browser.newPage();
    await second.goto(`http://127.0.0.1:${http}/`);
    await second.evaluate(() => localStorage.clear());
    await second.fill('#login-name', 'twin');
    await second.click('#login-form button[type=submit]');
    await second.waitForFunction(() =>
      /in use|taken/i.test(document.querySelector('#login-error')?.textContent ?? ''),
    );
    expect(await second.isHidden('#app')).toBe(true);
    await second.fill('#login-name', 'twin2');
    await second.click('#login-form button[type=submit]');
    await second.waitForSelector('#app:not([hidden])');
    await say(second, '/nick triplet');
    await seeLine(first, 'twin2 is now known as triplet');
    await second.waitForFunction(() => document.querySelector('#me')?.textContent === 'triplet');
    await first.close();
    await second.close();
  });

  test('links open safely: http(s) only, in a new tab without opener or referrer', async () => {
    const page = await browser.newPage();
    await signIn(page, http, 'linker');
    await say(page, 'see https://example.com/a_(b) and (https://example.org/x).');
    await seeLine(page, 'example.org');
    const links = await page.evaluate(() =>
      [...document.querySelectorAll('.log:not([hidden]) a')].map((a) => [
        a.getAttribute('href'),
        a.getAttribute('rel'),
        a.getAttribute('target'),
      ]),
    );
    expect(links).toEqual([
      ['https://example.com/a_(b)', 'noopener noreferrer', '_blank'],
      ['https://example.org/x', 'noopener noreferrer', '_blank'],
    ]);
    await page.close();
  });
});

describe.skipIf(!haveChromium)('web client: history, keyboard, unread', () => {
  let server: RunningServer;
  let browser: Browser;
  beforeAll(async () => {
    buildWeb();
    server = await startTestServer([
      '--http-port',
      '0',
      '--flood-rate',
      '0',
      '--history-on-join',
      '5',
    ]);
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('history on join and on scrolling up; Tab, Up and unread counts', async () => {
    const nc = await LineClient.named(portOf(server, 'line'), 'carol');
    for (let i = 0; i < 30; i++) nc.send(`old message ${i}`);
    nc.send('/history 1'); // the line protocol does not echo: ask for the last one back
    await nc.expect(/old message 29/);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const seen = watch(page);
    await signIn(page, portOf(server, 'http'), 'reader');
    await seeLine(page, 'old message 29');
    const count = () =>
      page.evaluate(() => document.querySelectorAll('.log:not([hidden]) .line.say').length);
    expect(await count()).toBe(5); // --history-on-join
    // Scrolling to the top pages back through the stored history.
    await page.evaluate(() => {
      const log = document.querySelector<HTMLElement>('.log:not([hidden])');
      if (log) log.scrollTop = 0;
      log?.dispatchEvent(new Event('scroll'));
    });
    await seeLine(page, 'old message 0');
    expect(await count()).toBe(30);
    await page.waitForSelector('.log:not([hidden]) .more', { state: 'hidden' });

    // Tab completes a name from the room; Enter sends; Up brings the line back.
    await page.fill('#input', 'thanks ca');
    await page.press('#input', 'Tab');
    expect(await page.inputValue('#input')).toBe('thanks carol ');
    await page.press('#input', 'Enter');
    await nc.expect(/<reader> thanks carol/);
    expect(await page.inputValue('#input')).toBe('');
    await page.press('#input', 'ArrowUp');
    expect(await page.inputValue('#input')).toBe('thanks carol ');
    await page.press('#input', 'ArrowDown');
    expect(await page.inputValue('#input')).toBe('');

    // Messages in a room you are not looking at are counted; a mention turns the badge red.
    await say(page, '/join #side');
    await page.waitForFunction(() => document.querySelector('#view-name')?.textContent === '#side');
    nc.send('/join #side');
    await say(page, '/join #lobby');
    await page.waitForFunction(
      () => document.querySelector('#view-name')?.textContent === '#lobby',
    );
    nc.send('/switch #side');
    nc.send('one');
    nc.send('two, reader');
    await page.waitForFunction(
      () => document.querySelector('[data-view="#side"] .badge.mention')?.textContent === '2',
    );
    expect(await page.title()).toBe('(2) #lobby · Plugboard');
    await page.click('[data-view="#side"]');
    await seeLine(page, 'two, reader');
    expect(await page.$('[data-view="#side"] .badge')).toBeNull();
    expect(seen.errors).toEqual([]);
    nc.close();
    await page.close();
  });
});

describe.skipIf(!haveChromium)('web client across a server restart', () => {
  let browser: Browser;
  beforeAll(async () => {
    buildWeb();
    browser = await launch();
  });
  afterAll(() => browser?.close());

  test('a page shows the shutdown, says "reconnecting…", and comes back to its rooms', async () => {
    const first = await startTestServer(['--http-port', '0']);
    const port = portOf(first, 'http');
    const page = await browser.newPage();
    const seen = watch(page);
    await signIn(page, port, 'phoenix');
    await say(page, '/join #dev');
    await page.waitForFunction(() => document.querySelector('#view-name')?.textContent === '#dev');

    await first.close('restarting for an upgrade');
    await seeLine(page, 'Server shutting down: restarting for an upgrade');
    await page.waitForSelector('#banner:not([hidden])');
    expect(await page.textContent('#banner')).toMatch(/Reconnecting…/);
    expect(await page.textContent('#status')).toBe('offline');

    const second = await startTestServer(['--http-port', String(port)]);
    try {
      await page.waitForSelector('#banner', { state: 'hidden', timeout: 15_000 });
      expect(await page.textContent('#status')).toBe('connected');
      // Same name, same rooms, and the conversation continues with people on the new server.
      await page.waitForFunction(() => document.querySelector('#me')?.textContent === 'phoenix');
      await page.waitForFunction(() => {
        const t = document.querySelector('#member-list')?.textContent ?? '';
        return t.includes('phoenix');
      });
      const nc = await LineClient.named(portOf(second, 'line'), 'witness');
      nc.send('/join #dev');
      await nc.expect(/joined #dev/i);
      await say(page, 'back again');
      await nc.expect(/<phoenix> back again/);
      nc.close();
      expect(seen.errors).toEqual([]);
    } finally {
      await page.close();
      await second.close();
    }
  });
});
