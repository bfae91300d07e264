/**
 * One view's message list, kept in the DOM while the view exists (switching views swaps
 * which list is shown, nothing is rebuilt). Lines are ordered by time, so history that
 * arrives late lands in its place, and a message id is shown at most once. Each day starts
 * with a divider, so a line shows only its time of day.
 */
import type { HelpRow } from '../commands.js';
import { h } from '../dom.js';
import { clockSamples, clockTime, dayLabel, dayStart, fullTime } from '../format.js';
import { nameTag, richText } from './text.js';

export interface Line {
  id?: string;
  ts: number;
  kind: 'say' | 'me' | 'notice' | 'event' | 'error' | 'help';
  from?: string;
  text: string;
  /** The line mentions the reader. */
  mention?: boolean;
  /** The reader wrote it. */
  self?: boolean;
  /** kind 'help': the table under `text`, one block with one time, and a closing note. */
  rows?: readonly HelpRow[];
  foot?: string;
}

/** Lines kept per view; older ones can be fetched again from history. */
const MAX_LINES = 1000;

export class MessageLog {
  readonly el: HTMLElement;
  readonly more: HTMLButtonElement;
  private readonly list: HTMLOListElement;
  private readonly ids = new Set<string>();
  /** Day dividers by local midnight. */
  private readonly days = new Map<number, HTMLLIElement>();
  /** Oldest message id shown, for paging history backwards. */
  oldestId: string | null = null;
  /** Newest message id shown: where a resume after a reconnect starts, and the read marker. */
  newestId: string | null = null;
  /** The "new messages" divider, when one is shown. */
  private unreadLine: HTMLLIElement | null = null;

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

  /** The room or person the log is of (a renamed room keeps its log under the new name). */
  label(name: string): void {
    this.el.setAttribute('aria-label', name);
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
        if (this.newestId === null || compareIds(line.id, this.newestId) > 0) {
          this.newestId = line.id;
        }
      }
      this.divider(line.ts);
      this.insert(render(line), line.ts, line.id);
      added++;
    }
    this.trim();
    if (stick) this.scrollToBottom();
    else this.el.scrollTop = this.el.scrollHeight - fromBottom;
    return added;
  }

  /**
   * Puts the "new messages" divider before the first message after `marker` (the read
   * marker: a message id) that someone else wrote, or removes it when there is none.
   * Returns how many such messages there are (the view's unread count).
   */
  markUnread(marker: string | null): number {
    this.unreadLine?.remove();
    this.unreadLine = null;
    if (marker === null) return 0;
    let first: HTMLElement | null = null;
    let count = 0;
    for (const li of this.list.querySelectorAll<HTMLElement>('li[data-id]')) {
      const id = li.dataset.id as string;
      if (compareIds(id, marker) <= 0 || li.classList.contains('self')) continue;
      if (!li.classList.contains('say') && !li.classList.contains('me')) continue;
      first ??= li;
      count++;
    }
    if (first) {
      this.unreadLine = h(
        'li',
        { class: 'unread-line', attrs: { role: 'separator' } },
        h('span', { text: 'New messages' }),
      );
      this.unreadLine.dataset.ts = first.dataset.ts ?? '0';
      first.before(this.unreadLine);
    }
    return count;
  }

  /**
   * Puts an element that is not a message (a resume's gap notice, ui/gap.ts) at time `ts`,
   * keeping the reader's place.
   */
  place(li: HTMLLIElement, ts: number): void {
    const stick = this.nearBottom();
    const fromBottom = this.el.scrollHeight - this.el.scrollTop;
    this.insert(li, ts);
    if (stick) this.scrollToBottom();
    else this.el.scrollTop = this.el.scrollHeight - fromBottom;
  }

  /** The day's divider, placed just before that day's first line. */
  private divider(ts: number): void {
    const day = dayStart(ts);
    if (this.days.has(day)) return;
    const li = h(
      'li',
      { class: 'day', attrs: { role: 'separator' } },
      h('span', { text: dayLabel(ts) }),
    );
    this.days.set(day, li);
    // Half a millisecond before midnight: after the previous day, before any line of this one.
    this.insert(li, day - 0.5);
  }

  /** Drops the oldest lines past MAX_LINES; the oldest remaining day keeps its divider. */
  private trim(): void {
    let trimmed = false;
    while (this.list.childElementCount > MAX_LINES) {
      const first = this.list.firstElementChild as HTMLElement | null;
      if (!first) break;
      if (first.classList.contains('day')) this.days.delete(Number(first.dataset.ts) + 0.5);
      first.remove();
      trimmed = true;
    }
    const first = this.list.firstElementChild as HTMLElement | null;
    if (trimmed && first && !first.classList.contains('day')) {
      const ts = Number(first.dataset.ts);
      this.days.delete(dayStart(ts));
      this.divider(ts);
    }
  }

  /**
   * By time, and messages of the same millisecond by id (a replay that lands after newer
   * lines of that millisecond still goes in its place).
   */
  private insert(li: HTMLLIElement, ts: number, id?: string): void {
    li.dataset.ts = String(ts);
    if (id !== undefined) li.dataset.id = id;
    let after = this.list.lastElementChild as HTMLElement | null;
    while (after && laterThan(after, ts, id)) {
      after = after.previousElementSibling as HTMLElement | null;
    }
    if (after) after.after(li);
    else this.list.prepend(li);
  }
}

/** Whether the shown line `el` belongs after a line at `ts` with message id `id`. */
function laterThan(el: HTMLElement, ts: number, id: string | undefined): boolean {
  const at = Number(el.dataset.ts);
  if (at !== ts) return at > ts;
  const other = el.dataset.id;
  return id !== undefined && other !== undefined && compareIds(other, id) > 0;
}

/** Ids are decimal strings that sort by time; compare without losing precision. */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function render(line: Line): HTMLLIElement {
  const time = h('time', {
    text: clockTime(line.ts),
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
  if (line.kind === 'help') {
    body.append(h('strong', { text: line.text }), helpTable(line.rows ?? []));
    if (line.foot) body.append(h('p', { class: 'help-foot', text: line.foot }));
    return h('li', { class: cls }, time, body);
  }
  body.append(richText(line.text));
  if (line.kind === 'say' || (line.kind === 'notice' && line.from !== undefined)) {
    // The space lets a phone's flowing layout wrap between name and text; the desktop grid
    // ignores it.
    return h('li', { class: cls }, time, nameTag(line.from ?? ''), ' ', body);
  }
  return h('li', { class: cls }, time, body);
}

/** Commands and what they do, in two columns (a list of terms, for screen readers too). */
function helpTable(rows: readonly HelpRow[]): HTMLDListElement {
  return h(
    'dl',
    { class: 'help-table' },
    ...rows.flatMap((r) => [h('dt', {}, h('code', { text: r.usage })), h('dd', { text: r.text })]),
  );
}

/**
 * Sizes the time column (CSS --time-em) to the widest time of day the reader's locale
 * writes: "14:58" needs less room than "02:58 PM". Measured in ems of the time's own font
 * size, so the phone layout's smaller type scales it without measuring again.
 */
export function fitTimeColumn(): void {
  // Styles through the CSSOM: the Content-Security-Policy refuses style attributes.
  const probe = h('time');
  Object.assign(probe.style, { display: 'inline-block', width: 'auto', margin: '0' });
  const line = h('div', { class: 'line', attrs: { 'aria-hidden': 'true' } }, probe);
  Object.assign(line.style, { position: 'absolute', visibility: 'hidden', display: 'block' });
  document.body.append(line);
  let widest = 0;
  for (const sample of clockSamples()) {
    probe.textContent = sample;
    widest = Math.max(widest, probe.getBoundingClientRect().width);
  }
  const size = parseFloat(getComputedStyle(probe).fontSize);
  line.remove();
  if (widest > 0 && size > 0) {
    // A pixel to spare: sub-pixel widths round differently from one line to the next.
    document.documentElement.style.setProperty('--time-em', ((widest + 1) / size).toFixed(3));
  }
}
