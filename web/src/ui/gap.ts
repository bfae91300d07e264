/**
 * The hole a resume could not fill: the server replays at most --resume-limit messages and
 * says how many it left out (`missed`). This notice sits where the hole is, just above the
 * oldest message known after it, and its button fetches the hole through the ordinary
 * history paging (`history` with `before`), newest part first, one page a click. What a
 * page brings lands in its place (the log orders by time and shows an id once); the hole
 * is closed once a page reaches a message from before it (its id at or before the resume
 * position) or the start of what the server keeps.
 */
import { h } from '../dom.js';
import type { WireMessage } from '../protocol.js';
import { compareIds, type MessageLog } from './log.js';

/** Fetches up to `limit` messages before `before`, oldest first; null when it failed. */
export type FetchPage = (before: string, limit: number) => Promise<WireMessage[] | null>;

/**
 * Half a millisecond earlier than the message the notice stands above: after every line
 * of an earlier millisecond, before that message (dividers use -0.5, one day earlier).
 */
const ABOVE = 0.25;

export class GapNotice {
  readonly li: HTMLLIElement;
  private readonly text: HTMLSpanElement;
  private readonly button: HTMLButtonElement;
  private loading = false;

  constructor(
    private readonly log: MessageLog,
    /** The resume position: every message up to it was shown before the hole. */
    private readonly after: string,
    /** The oldest message known after the hole. */
    private upper: { id: string; ts: number },
    /** How many messages the hole holds, as the server counted them. */
    private left: number,
    /** How many the resume missed in all (the replay's `missed`). */
    private readonly missed: number,
    private readonly pageSize: number,
    private readonly fetch: FetchPage,
  ) {
    this.text = h('span', { class: 'gap-text' });
    this.button = h('button', {
      class: 'gap-load',
      attrs: { type: 'button' },
      on: { click: () => void this.load() },
    });
    this.li = h(
      'li',
      { class: 'line error gap', attrs: { role: 'status' } },
      h('time'),
      h('span', { class: 'text' }, this.text, ' ', this.button),
    );
    this.update();
    this.log.place(this.li, upper.ts - ABOVE);
  }

  /** True while the hole is shown (not closed yet). */
  get open(): boolean {
    return this.li.isConnected;
  }

  private update(): void {
    const n = this.left;
    this.text.textContent =
      n > 0
        ? `${n} earlier message${n === 1 ? '' : 's'} from while you were away ${n === 1 ? 'is' : 'are'} not shown (${this.missed} missed in all)`
        : `Earlier messages from while you were away are not shown (${this.missed} missed in all)`;
    this.button.textContent = this.loading
      ? 'Loading…'
      : n > this.pageSize
        ? `Load ${this.pageSize} more`
        : n > 0
          ? `Load ${n === 1 ? 'it' : 'them'}`
          : 'Load more';
    this.button.disabled = this.loading;
  }

  /** One page of the hole, the part next to what is shown after it. */
  async load(): Promise<void> {
    if (this.loading || !this.open) return;
    this.loading = true;
    this.update();
    // One more than the hole holds: a message from before it shows the hole is closed.
    const limit = Math.min(this.pageSize, Math.max(this.left, 0) + 1);
    const page = await this.fetch(this.upper.id, limit);
    this.loading = false;
    if (page === null) {
      this.update();
      return;
    }
    const inside = page.filter((m) => compareIds(m.id, this.after) > 0);
    const oldest = inside[0];
    if (inside.length < page.length || page.length < limit || oldest === undefined) {
      this.li.remove();
      return;
    }
    this.left = Math.max(0, this.left - inside.length);
    this.upper = { id: oldest.id, ts: oldest.ts };
    this.li.remove();
    this.log.place(this.li, oldest.ts - ABOVE);
    this.update();
  }
}
