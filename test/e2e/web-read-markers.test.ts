/**
 * Read markers in the web page (Chromium): what an identified reader has seen is marked
 * read on the server; after a reload the page shows unread counts and a "New messages"
 * line from that marker, and a marker moved by another protocol (IRC MARKREAD) moves
 * the page's too.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { buildWeb, haveChromium, launch, say, seeLine, signIn, watch } from './browser.js';
import { RawFramedClient, type Msg } from '../helpers/framed-client.js';
import { RawIrcClient } from '../helpers/irc-client.js';
import { LineClient } from '../helpers/line-client.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

const ACCOUNT = 'rmweb';
const PASSWORD = 'rmweb-pass-1';

describe.skipIf(!haveChromium)('read markers in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  beforeAll(async () => {
    buildWeb();
    server = await startTestServer([
      '--http-port',
      '0',
      '--framed-port',
      '0',
      '--irc-port',
      '0',
      '--flood-rate',
      '0',
    ]);
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** The account's markers, asked over the framed protocol (another device). */
  async function markers(): Promise<{ room: string; id: string }[]> {
    const c = await RawFramedClient.hello(portOf(server, 'framed'), `chk${Date.now() % 10000}`);
    c.send({ type: 'identify', name: ACCOUNT, password: PASSWORD, ref: 'i' });
    await c.expect((m) => m.ref === 'i');
    c.send({ type: 'markers', ref: 'm' });
    const got = (await c.expect((m) => m.ref === 'm')) as Msg & {
      markers: { room: string; id: string }[];
    };
    c.close();
    return got.markers;
  }

  async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const v = await probe();
      if (ok(v) || Date.now() > deadline) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const sidebarBadge = (page: Page, room: string) =>
    page.evaluate(
      (r) => document.querySelector(`button.item[data-view="${r}"] .badge`)?.textContent ?? null,
      room,
    );

  test('seen lines are marked read; after a reload the rest is unread, below a New messages line', async () => {
    const page = await browser.newPage();
    const seen = watch(page);
    const http = portOf(server, 'http');
    await signIn(page, http, ACCOUNT);
    await say(page, `/register ${PASSWORD}`);
    await seeLine(page, `You are identified as ${ACCOUNT}`);
    await say(page, '/join #rmside');
    await page.waitForFunction(
      () => document.querySelector('#view-name')?.textContent === '#rmside',
    );
    const talker = await LineClient.named(portOf(server, 'line'), 'rmtalk');
    talker.send('/join #rmside');
    await talker.expect(/^\* You joined #rmside/);
    talker.send('seen while looking');
    await seeLine(page, 'seen while looking');
    // The page looked at it: the account's marker is that message.
    const first = await until(markers, (m) => m.some((x) => x.room === '#rmside'));
    const [mark] = first.filter((m) => m.room === '#rmside');
    const stored = await server.hub.store.history({ room: '#rmside', limit: 1 });
    expect(mark?.id).toBe(stored[0]?.id);

    // Away (the page is closed); two more arrive.
    await page.goto('about:blank');
    talker.send('missed one');
    talker.send('missed two');
    // The line protocol does not echo: wait until the store has them.
    await until(
      () => server.hub.store.history({ room: '#rmside', limit: 1 }),
      (h) => h[0]?.text === 'missed two',
    );

    // Back (a reload: the page rejoins its rooms, then the reader identifies).
    await signIn(page, http, ACCOUNT);
    await say(page, `/identify ${ACCOUNT} ${PASSWORD}`);
    await seeLine(page, `You are identified as ${ACCOUNT}`);
    await page.waitForFunction(() =>
      document.querySelector('button.item[data-view="#rmside"] .badge'),
    );
    expect(await sidebarBadge(page, '#rmside')).toBe('2');
    await page.click('button.item[data-view="#rmside"]');
    await seeLine(page, 'missed two');
    // The New messages line sits right before the first missed message.
    const order = await page.evaluate(() =>
      [...document.querySelectorAll('.log:not([hidden]) li')]
        .map((li) => (li.classList.contains('unread-line') ? '--new--' : (li.textContent ?? '')))
        .filter((t) => t === '--new--' || /seen while looking|missed one|missed two/.test(t))
        .map((t) => t.replace(/^.*(seen while looking|missed one|missed two).*$/, '$1')),
    );
    expect(order).toEqual(['seen while looking', '--new--', 'missed one', 'missed two']);
    // Looking at the room read it: the marker moved to the newest.
    const newest = (await server.hub.store.history({ room: '#rmside', limit: 1 }))[0]?.id;
    expect(
      (await until(markers, (m) => m.some((x) => x.id === newest))).find(
        (m) => m.room === '#rmside',
      )?.id,
    ).toBe(newest);

    // Another protocol reads on: the page hears it. Go elsewhere, let two arrive, and
    // read them over IRC: the page's count drops to nothing.
    await page.click('button.item[data-view="#lobby"]');
    talker.send('read over irc one');
    talker.send('read over irc two');
    await page.waitForFunction(
      () => document.querySelector('button.item[data-view="#rmside"] .badge')?.textContent === '2',
    );
    const irc = await RawIrcClient.connect(portOf(server, 'irc'));
    irc.send('CAP REQ :sasl draft/read-marker');
    await irc.expect(/ CAP \S+ ACK /);
    irc.send('AUTHENTICATE PLAIN');
    await irc.expect(/^AUTHENTICATE \+$/);
    irc.send(`AUTHENTICATE ${Buffer.from(`\0${ACCOUNT}\0${PASSWORD}`).toString('base64')}`);
    await irc.expect(/ 903 /);
    irc.send('NICK rmirc');
    irc.send('USER rmirc 0 * :rmirc');
    irc.send('CAP END');
    await irc.expect(/ 001 /);
    irc.send('JOIN #rmside');
    await irc.expect(/ 366 /);
    irc.send(`MARKREAD #rmside timestamp=${new Date(Date.now() + 1000).toISOString()}`);
    await irc.expect(/ MARKREAD #rmside timestamp=/);
    await page.waitForFunction(
      () => !document.querySelector('button.item[data-view="#rmside"] .badge'),
    );
    expect(seen.errors).toEqual([]);
    irc.close();
    talker.close();
    await page.close();
  }, 60_000);
});
