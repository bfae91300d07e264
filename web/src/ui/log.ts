/**
 * One view's message list, kept in the DOM while the view exists (switching views swaps
 * which list is shown, nothing is rebuilt). Lines are ordered by time, so history that
 * arrives late lands in its place, and a message id is shown at most once.
 */
import { h } from '../dom.js';
import { fullTime, shortTime } from '../format.js';
import { nameTag, richText } from './text.js';

export interface Line {
  id?: string;
  ts: number;
  kind: 'say' | 'me' | 'notice' | 'event' | 'error';
  from?: string;
  text: string;
  /** The line mentions the reader. */
  mention?: boolean;
  /** The reader wrote it. */
  self?: boolean;
}

/** Lines kept per view; older ones can be fetched again from history. */
const MAX_LINES = 1000;

export class MessageLog {
  readonly el: HTMLElement;
  readonly more: HTMLButtonElement;
  private readonly list: HTMLOListElement;
  private readonly ids = new Set<string>();
  /** Oldest message id shown, for paging history backwards. */
  oldestId: string | null = null;

  constructor(label: string, onMore: () => void) {
    this.more = h('button', {
      class: 'more',
      text: 'Load earlier messages',
      attrs: { type: 'button' },
      on: { click: onMore },
    });
    this.list = h('ol', { class: 'lines' });
    this.el = h(
      'div',
      { class: 'log', attrs: { role: 'log', 'aria-label': label, tabindex: '0' } },
      this.more,
      this.list,
    );
  }

  nearBottom(): boolean {
    return this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < 60;
  }

  scrollToBottom(): void {
    this.el.scrollTop = this.el.scrollHeight;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Adds lines, keeping the reader's place; returns how many were new. */
  add(lines: Line[]): number {
    const stick = this.nearBottom();
    const fromBottom = this.el.scrollHeight - this.el.scrollTop;
    let added = 0;
    for (const line of lines) {
      if (line.id !== undefined) {
        if (this.ids.has(line.id)) continue;
        this.ids.add(line.id);
        if (this.oldestId === null || compareIds(line.id, this.oldestId) < 0) {
          this.oldestId = line.id;
        }
      }
      this.insert(render(line), line.ts);
      added++;
    }
    while (this.list.childElementCount > MAX_LINES) this.list.firstElementChild?.remove();
    if (stick) this.scrollToBottom();
    else this.el.scrollTop = this.el.scrollHeight - fromBottom;
    return added;
  }

  private insert(li: HTMLLIElement, ts: number): void {
    li.dataset.ts = String(ts);
    let after = this.list.lastElementChild as HTMLElement | null;
    while (after && Number(after.dataset.ts) > ts) {
      after = after.previousElementSibling as HTMLElement | null;
    }
    if (after) after.after(li);
    else this.list.prepend(li);
  }
}

/** Ids are decimal strings that sort by time; compare without losing precision. */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function render(line: Line): HTMLLIElement {
  const time = h('time', {
    text: shortTime(line.ts),
    title: fullTime(line.ts),
    attrs: { datetime: new Date(line.ts).toISOString() },
  });
  const cls = ['line', line.kind, line.mention ? 'mention' : '', line.self ? 'self' : '']
    .filter(Boolean)
    .join(' ');
  const body = h('span', { class: 'text' });
  if (line.kind === 'me' && line.from !== undefined) {
    body.append('* ', nameTag(line.from), ' ', richText(line.text));
    return h('li', { class: cls }, time, body);
  }
  body.append(richText(line.text));
  if (line.kind === 'say' || (line.kind === 'notice' && line.from !== undefined)) {
    return h('li', { class: cls }, time, nameTag(line.from ?? ''), body);
  }
  return h('li', { class: cls }, time, body);
}
