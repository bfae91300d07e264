/** The left column: your rooms, your private chats, and every other room to join. */
import { byId, h, replaceKeepingFocus } from '../dom.js';
import { fold } from '../format.js';
import type { WireRoom } from '../protocol.js';
import type { View, Views } from '../views.js';

export interface SidebarActions {
  select(view: View): void;
  join(room: string): void;
  close(view: View): void;
}

function badge(view: View): HTMLElement | null {
  if (view.unread === 0) return null;
  return h('span', {
    class: view.mentioned ? 'badge mention' : 'badge',
    text: view.unread > 99 ? '99+' : String(view.unread),
    attrs: { 'aria-label': `${view.unread} unread` },
  });
}

function viewItem(
  view: View,
  active: boolean,
  actions: SidebarActions,
  count?: number,
): HTMLElement {
  const button = h(
    'button',
    {
      class: `item${active ? ' active' : ''}${view.unread ? ' unread' : ''}${view.kind === 'room' && !view.joined ? ' parted' : ''}`,
      attrs: {
        type: 'button',
        'data-view': view.name,
        ...(active ? { 'aria-current': 'page' } : {}),
      },
      on: { click: () => actions.select(view) },
    },
    h('span', { class: 'name', text: view.name }),
    count !== undefined
      ? h('span', { class: 'count', text: String(count), title: `${count} here` })
      : null,
    badge(view),
  );
  // Private chats and rooms you were removed from can be closed from here.
  const closable = view.kind === 'dm' || !view.joined;
  const close = closable
    ? h('button', {
        class: 'close',
        text: '×',
        title: `Close ${view.name}`,
        attrs: { type: 'button', 'aria-label': `Close ${view.name}` },
        on: { click: () => actions.close(view) },
      })
    : null;
  return h('li', { class: 'entry' }, button, close);
}

/** `stale`: the member counts are from before the connection dropped (shown greyed). */
export function renderSidebar(
  views: Views,
  directory: WireRoom[],
  actions: SidebarActions,
  stale: boolean,
): void {
  byId('sidebar').classList.toggle('stale', stale);
  const active = views.active;
  const rooms = views
    .rooms()
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((v) => viewItem(v, v === active, actions, v.joined ? v.members.size : undefined));
  replaceKeepingFocus(byId('room-list'), rooms);

  const dms = views
    .dms()
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((v) => viewItem(v, v === active, actions));
  replaceKeepingFocus(byId('dm-list'), dms);
  byId('dm-section').hidden = dms.length === 0;

  const mine = new Set(
    views
      .rooms()
      .filter((v) => v.joined)
      .map((v) => v.key),
  );
  const others = directory
    .filter((r) => !mine.has(fold(r.name)))
    .sort((a, b) => b.members - a.members || a.name.localeCompare(b.name))
    .map((r) =>
      h(
        'li',
        {},
        h(
          'button',
          {
            class: 'item',
            title: r.topic ? `${r.name}: ${r.topic}` : `Join ${r.name}`,
            attrs: { type: 'button', 'data-room': r.name },
            on: { click: () => actions.join(r.name) },
          },
          h('span', { class: 'name', text: r.name }),
          h('span', { class: 'count', text: String(r.members), title: `${r.members} here` }),
        ),
      ),
    );
  replaceKeepingFocus(byId('directory'), others);
  byId('directory-section').hidden = others.length === 0;
}
