/**
 * The connection banner: says plainly when we are not connected, why, and when the next
 * attempt is, with a button to try now. Hidden while the connection is up.
 */
import { byId, h } from '../dom.js';
import type { ConnState } from '../connection.js';

let ticker: number | undefined;

/** The server's shutdown reason as a sentence; the default reason adds nothing to say. */
export function shutdownText(reason: string): string {
  const why = reason.trim().replace(/\.$/, '');
  return why === '' || /^server shutting down$/i.test(why)
    ? 'The server is shutting down.'
    : `The server is shutting down: ${why}.`;
}

export function renderBanner(state: ConnState, shutdown: string | null, retry: () => void): void {
  const banner = byId('banner');
  const status = byId('status');
  window.clearInterval(ticker);
  status.className = `status ${state.kind}`;
  status.textContent = state.kind === 'open' ? 'connected' : state.kind === 'idle' ? '' : 'offline';
  if (state.kind === 'open' || state.kind === 'idle') {
    banner.hidden = true;
    return;
  }
  banner.hidden = false;
  const draw = (): void => {
    const parts: (Node | string)[] = [];
    if (shutdown) parts.push(h('strong', { text: `${shutdownText(shutdown)} ` }));
    if (state.kind === 'connecting') {
      parts.push(
        h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }),
        'Reconnecting…',
      );
    } else {
      const secs = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
      parts.push(
        h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }),
        // After a shutdown, "server unreachable" is expected: the countdown is what matters.
        `Reconnecting… (${shutdown ? '' : `${state.reason}; `}next try in ${secs} s) `,
        h('button', { text: 'Retry now', attrs: { type: 'button' }, on: { click: retry } }),
      );
    }
    banner.replaceChildren(...parts);
  };
  draw();
  if (state.kind === 'waiting') ticker = window.setInterval(draw, 1000);
}
