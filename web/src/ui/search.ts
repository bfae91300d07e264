/**
 * The search box in the top bar and its results panel: the server's `search` (newest
 * first, in the rooms you are in and your own private chats), each match with its room
 * (or the person of a private chat), day and time, and "Older matches" while the server
 * says there are more. Pressing a match opens its room or chat.
 */
import { byId, h } from '../dom.js';
import type { ClientMessage, Of, ServerMessage, WireHit } from '../protocol.js';

export interface SearchHost {
  request(m: ClientMessage): Promise<ServerMessage>;
  /** Opens the room or private chat a match is from. */
  open(hit: WireHit): void;
  /** Gives typing back to the composer. */
  done(): void;
}

function when(ts: number): string {
  const d = new Date(ts);
  const today = new Date();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' })} ${time}`;
}

export class SearchPanel {
  private readonly panel = byId('search-panel');
  private readonly input = byId<HTMLInputElement>('search-input');
  private readonly list = byId('search-results');
  private readonly status = byId('search-status');
  private readonly more = byId<HTMLButtonElement>('search-more');
  /** The search shown: its words and where the next page starts. */
  private shown: { q: string; next: string | null } | null = null;
  /** Answers to an older search are dropped (typing fast, or a new search). */
  private seq = 0;

  constructor(private readonly host: SearchHost) {}

  start(): void {
    byId<HTMLFormElement>('search-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.run(this.input.value);
    });
    byId('search-close').addEventListener('click', () => this.close());
    this.more.addEventListener('click', () => {
      if (this.shown?.next) void this.fetch(this.shown.q, this.shown.next);
    });
    this.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        this.close();
      }
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !this.panel.hidden) {
        e.preventDefault();
        this.close();
      }
    });
  }

  /** A new search (the box, or `/search` typed in the composer). */
  run(text: string): void {
    const q = text.trim();
    this.input.value = q;
    if (!q) return;
    this.panel.hidden = false;
    this.list.replaceChildren();
    this.shown = null;
    void this.fetch(q, undefined);
  }

  close(): void {
    this.panel.hidden = true;
    this.seq++;
    this.host.done();
  }

  private async fetch(q: string, before: string | undefined): Promise<void> {
    const seq = ++this.seq;
    this.more.disabled = true;
    this.more.textContent = 'Searching…';
    if (before === undefined) this.status.textContent = `Searching for “${q}”…`;
    let reply: ServerMessage;
    try {
      reply = await this.host.request({ type: 'search', q, ...(before ? { before } : {}) });
    } catch (err) {
      if (seq !== this.seq) return;
      this.status.textContent = (err as Error).message;
      this.status.className = 'search-status error';
      this.more.hidden = true;
      return;
    }
    if (seq !== this.seq || reply.type !== 'search') return;
    this.show(reply, before !== undefined);
  }

  private show(r: Of<'search'>, appended: boolean): void {
    this.shown = { q: r.q, next: r.next };
    const items = r.messages.map((m) => this.item(m));
    if (appended) this.list.append(...items);
    else this.list.replaceChildren(...items);
    const total = this.list.childElementCount;
    const words = `“${r.terms.join(' ')}”`;
    this.status.className = 'search-status';
    this.status.textContent =
      total === 0
        ? r.next === null
          ? `Nothing found for ${words} in your rooms and private chats.`
          : `Nothing found for ${words} among the newest matches; look further back.`
        : `${total} message${total === 1 ? '' : 's'} for ${words}, newest first${r.next === null ? '' : ' (more below)'}.`;
    this.more.hidden = r.next === null;
    this.more.disabled = false;
    this.more.textContent = total === 0 ? 'Look further back' : 'Older matches';
  }

  private item(m: WireHit): HTMLElement {
    const where = m.room ?? (m.with !== undefined ? `private · ${m.with}` : 'private');
    return h(
      'li',
      {},
      h(
        'button',
        {
          class: 'search-hit',
          attrs: { type: 'button', 'data-id': m.id },
          on: { click: () => this.host.open(m) },
        },
        h(
          'span',
          { class: 'search-meta' },
          h('span', { class: 'search-where', text: where }),
          h('time', { text: when(m.ts), attrs: { datetime: new Date(m.ts).toISOString() } }),
        ),
        h(
          'span',
          { class: 'search-text' },
          h('b', { text: m.kind === 'me' ? `* ${m.from} ` : `${m.from}: ` }),
          m.text,
        ),
      ),
    );
  }
}
