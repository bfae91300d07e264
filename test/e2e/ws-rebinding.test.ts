/**
 * DNS rebinding in a real browser: Chromium told that evil.example is 127.0.0.1
 * (--host-resolver-rules), as a rebinding attacker's DNS would, loads a page from
 * http://evil.example:PORT (this very server) and opens a WebSocket back to it. The
 * browser sends Origin and Host evil.example:PORT, which agree; the server must still
 * refuse, because evil.example is not a name it is known by.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildWeb, CHROMIUM, haveChromium } from './browser.js';
import { portOf, startTestServer } from '../helpers/server.js';
import type { RunningServer } from '../../src/server.js';

/** Opens a WebSocket from the page; resolves 'open', or 'refused' when it fails. */
function tryWebSocket(page: Page, url: string): Promise<string> {
  return page.evaluate(
    (u) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(u);
        ws.onopen = () => {
          ws.close();
          resolve('open');
        };
        ws.onerror = () => resolve('refused');
      }),
    url,
  );
}

describe.skipIf(!haveChromium)('WebSocket Origin check against DNS rebinding (Chromium)', () => {
  let plain: RunningServer;
  let named: RunningServer;
  let browser: Browser;
  beforeAll(async () => {
    buildWeb();
    plain = await startTestServer(['--http-port', '0']);
    named = await startTestServer(['--http-port', '0', '--public-host', 'evil.example']);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--host-resolver-rules=MAP evil.example 127.0.0.1',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await plain?.close();
    await named?.close();
  });

  test('a page on the rebound name gets no session; the same page by IP or localhost does', async () => {
    const port = portOf(plain, 'http');
    const page = await browser.newPage();
    await page.goto(`http://evil.example:${port}/`);
    expect(await tryWebSocket(page, `ws://evil.example:${port}/ws`)).toBe('refused');
    await page.goto(`http://127.0.0.1:${port}/`);
    expect(await tryWebSocket(page, `ws://127.0.0.1:${port}/ws`)).toBe('open');
    await page.goto(`http://localhost:${port}/`);
    expect(await tryWebSocket(page, `ws://localhost:${port}/ws`)).toBe('open');
    await page.close();
  });

  test("with --public-host the name is the server's own: the page gets its session", async () => {
    const port = portOf(named, 'http');
    const page = await browser.newPage();
    await page.goto(`http://evil.example:${port}/`);
    expect(await tryWebSocket(page, `ws://evil.example:${port}/ws`)).toBe('open');
    await page.close();
  });
});
