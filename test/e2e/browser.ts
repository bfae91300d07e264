/**
 * Real headless Chromium (Debian's package) driven by playwright-core. We never download a
 * browser: the project's scripts install /usr/bin/chromium (scripts/install-test-deps.sh).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page, type WebSocketRoute } from 'playwright-core';

export { buildWeb } from '../helpers/web-build.js';

export const CHROMIUM = process.env.PLUGBOARD_CHROMIUM ?? '/usr/bin/chromium';
/**
 * Browser tests run unless explicitly skipped: a missing Chromium is a broken test setup
 * (run scripts/install-test-deps.sh), not a reason to pass quietly.
 */
export const haveChromium = process.env.PLUGBOARD_SKIP_BROWSER !== '1';
if (haveChromium && !existsSync(CHROMIUM)) {
  throw new Error(`${CHROMIUM} not found: run scripts/install-test-deps.sh`);
}

/**
 * Each launch gets a fresh profile: playwright passes its own new temporary
 * --user-data-dir (and refuses one in `args`), so no state leaks between runs.
 */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Collects what a page must never do: script errors and dialogs (alert from injection). */
export function watch(page: Page): { errors: string[]; dialogs: string[] } {
  const seen = { errors: [] as string[], dialogs: [] as string[] };
  page.on('pageerror', (e) => seen.errors.push(e.message));
  page.on('dialog', (d) => {
    seen.dialogs.push(d.message());
    void d.dismiss();
  });
  return seen;
}

/** Opens the chat page and picks a name; resolves once the first room is shown. */
export async function signIn(page: Page, port: number, name: string): Promise<void> {
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.fill('#login-name', name);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
  await page.waitForFunction(() => document.querySelector('#view-name')?.textContent === '#lobby');
}

/** Types a line into the composer and presses Enter, as a person would. */
export async function say(page: Page, text: string): Promise<void> {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
}

/** Waits until the visible log shows a line containing `text`. */
export async function seeLine(page: Page, text: string, timeout = 5000): Promise<void> {
  await page.waitForFunction(
    (t) =>
      [...document.querySelectorAll('.log:not([hidden]) .line')].some((li) =>
        (li.textContent ?? '').includes(t),
      ),
    text,
    { timeout },
  );
}

/**
 * The page's WebSocket through a gate that can cut its network: `cut` closes every open
 * connection as a lost network would and refuses new ones until `restore`.
 */
export async function networkGate(page: Page): Promise<{ cut(): Promise<void>; restore(): void }> {
  let open = true;
  const routes: WebSocketRoute[] = [];
  await page.routeWebSocket(/\/ws$/, (ws) => {
    if (!open) {
      void ws.close({ code: 4000, reason: 'network down' }).catch(() => {});
      return;
    }
    routes.push(ws, ws.connectToServer());
  });
  return {
    async cut() {
      open = false;
      for (const r of routes.splice(0)) await r.close({ code: 4000, reason: 'network down' });
    },
    restore() {
      open = true;
    },
  };
}
