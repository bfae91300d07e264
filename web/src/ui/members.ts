/** The right column: who is in the current room (or whom you are talking to). */
import { byId, h, replaceKeepingFocus } from '../dom.js';
import type { View } from '../views.js';
import { nameTag } from './text.js';

/**
 * `staleNote` says the list is not current (offline, or not refreshed yet): the list is
 * greyed under it rather than shown as if live.
 */
export function renderMembers(
  view: View | null,
  me: string,
  onPick: (name: string) => void,
  staleNote: string | null,
): void {
  const list = byId('member-list');
  const heading = byId('members-heading');
  const note = byId('members-status');
  byId('members').classList.toggle('stale', staleNote !== null);
  note.hidden = staleNote === null;
  note.textContent = staleNote ?? '';
  if (staleNote === null) list.removeAttribute('aria-describedby');
  else list.setAttribute('aria-describedby', 'members-status');
  if (!view || view.kind === 'dm') {
    heading.textContent = view ? 'Private chat' : 'People';
    list.replaceChildren(...(view ? [h('li', { class: 'member' }, nameTag(view.name))] : []));
    return;
  }
  heading.textContent = `${view.members.size} in ${view.name}`;
  replaceKeepingFocus(
    list,
    view.sortedMembers().map((m) => {
      const prefix = m.op ? '@' : m.voice ? '+' : '';
      const self = m.name.toLowerCase() === me.toLowerCase();
      return h(
        'li',
        { class: `member${m.away ? ' away' : ''}` },
        h(
          'button',
          {
            title: self ? 'You' : `Private chat with ${m.name}${m.away ? ' (away)' : ''}`,
            attrs: { type: 'button', 'data-name': m.name, ...(self ? { disabled: '' } : {}) },
            on: { click: () => onPick(m.name) },
          },
          h('span', {
            class: 'prefix',
            text: prefix,
            title: m.op ? 'operator' : m.voice ? 'voice' : '',
          }),
          nameTag(m.name),
          self ? h('span', { class: 'you', text: '(you)' }) : null,
        ),
      );
    }),
  );
}
