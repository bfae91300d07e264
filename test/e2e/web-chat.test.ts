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

  test('private chats between identified accounts come back after a reload', async () => {
    const a = await browser.newPage();
    const b = await browser.newPage();
    const seenA = watch(a);
    await signIn(a, http, 'dana');
    await signIn(b, http, 'eric');
    await say(a, '/register dana-pass-1');
    await seeLine(a, 'You are identified as dana');
    await say(b, '/register eric-pass-1');
    await seeLine(b, 'You are identified as eric');
    await say(a, '/msg eric kept between us');
    await seeLine(a, 'kept between us');
    await say(b, '/query dana');
    await seeLine(b, 'kept between us');
    await say(b, 'and the answer');
    await seeLine(a, 'and the answer');

    // A reload starts a new connection: nothing private shows until dana identifies.
    await signIn(a, http, 'dana');
    await say(a, '/identify dana dana-pass-1');
    await seeLine(a, 'You are identified as dana');
    await say(a, '/query eric');
    await seeLine(a, 'kept between us');
    await seeLine(a, 'and the answer');
    // dana's own line is shown as hers, eric's as his.
    const own = await a.evaluate(() =>
      [...document.querySelectorAll('.log:not([hidden]) .line')]
        .filter((li) => (li.textContent ?? '').includes('kept between us'))
        .map((li) => li.className),
    );
    expect(own.join(' ')).toMatch(/self/);
    expect(seenA.errors).toEqual([]);
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

  test('an over-long message is refused before sending and stays in the box', async () => {
    const page = await browser.newPage();
    await signIn(page, http, 'rambler');
    const nc = await LineClient.named(line, 'listener');
    const long = 'ä'.repeat(2500); // 5000 bytes of UTF-8: past the server's 4000
    await say(page, long);
    await seeLine(page, 'That message is 5000 bytes; the limit is 4000.');
    expect(await page.inputValue('#input')).toBe(long);
    await say(page, 'short and sweet');
    await nc.expect(/<rambler> short and sweet/);
    nc.close();
    await page.close();
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
    const stored = 140; // not a whole number of pages: the last page is short
    for (let i = 0; i < stored; i++) nc.send(`old message ${i}`);
    nc.send('/history 1'); // the line protocol does not echo: ask for the last one back
    await nc.expect(new RegExp(`old message ${stored - 1}`));
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const seen = watch(page);
    await signIn(page, portOf(server, 'http'), 'reader');
    await seeLine(page, `old message ${stored - 1}`);
    const count = () =>
      page.evaluate(() => document.querySelectorAll('.log:not([hidden]) .line.say').length);
    const log = () =>
      page.evaluate(() => {
        const el = document.querySelector<HTMLElement>('.log:not([hidden])');
        return { scrolls: (el?.scrollHeight ?? 0) > (el?.clientHeight ?? 0), top: el?.scrollTop };
      });
    // The replay on joining (--history-on-join 5) cannot fill the screen, so the page asks
    // for more until it can scroll, and no further.
    await page.waitForFunction(() => {
      const el = document.querySelector<HTMLElement>('.log:not([hidden])');
      return el !== null && el.scrollHeight > el.clientHeight;
    });
    await page.waitForTimeout(200);
    expect(await count()).toBeGreaterThan(5);
    expect(await count()).toBeLessThan(stored);
    expect((await log()).scrolls).toBe(true);
    // Scrolling to the top pages back through the stored history, without losing the place.
    for (let i = 0; i < 10 && (await count()) < stored; i++) {
      const before = await count();
      await page.evaluate(() => {
        const el = document.querySelector<HTMLElement>('.log:not([hidden])');
        if (el) el.scrollTop = 0;
        el?.dispatchEvent(new Event('scroll'));
      });
      await page.waitForFunction((n) => {
        const lines = document.querySelectorAll('.log:not([hidden]) .line.say').length;
        return lines > n || document.querySelector('.log:not([hidden]) .more[hidden]') !== null;
      }, before);
      // The lines the reader was looking at stay in view: older ones go above them.
      expect((await log()).top).toBeGreaterThan(0);
    }
    await seeLine(page, 'old message 0');
    expect(await count()).toBe(stored);
    await page.waitForSelector('.log:not([hidden]) .more', { state: 'hidden' });
    // One day divider, above the oldest line.
    expect(
      await page.evaluate(() => document.querySelectorAll('.log:not([hidden]) .day').length),
    ).toBe(1);

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
    // The rooms button (a phone's only way to the other rooms) counts them too.
    expect(await page.textContent('#rooms-unread')).toBe('2');
    await page.click('[data-view="#side"]');
    await seeLine(page, 'two, reader');
    await page.waitForSelector('[data-view="#side"] .badge', { state: 'detached' });
    await page.waitForSelector('#rooms-unread', { state: 'hidden' });
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
    await seeLine(page, 'The server is shutting down: restarting for an upgrade.');
    await page.waitForSelector('#banner:not([hidden])');
    expect(await page.textContent('#banner')).toMatch(
      /^The server is shutting down: restarting for an upgrade\. .*Reconnecting… \(next try in \d+ s\)/,
    );
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
      // The view says it reconnected, without repeating the greeting it showed at sign-in.
      await seeLine(page, 'Reconnected.');
      expect(await page.textContent('.log:not([hidden])')).not.toMatch(/Welcome to Plugboard/);
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
  }, 60_000);
});
