/** The right column: who is in the current room (or whom you are talking to). */
import { byId, h } from '../dom.js';
import type { View } from '../views.js';
import { nameTag } from './text.js';

export function renderMembers(view: View | null, me: string, onPick: (name: string) => void): void {
  const list = byId('member-list');
  const heading = byId('members-heading');
  if (!view || view.kind === 'dm') {
    heading.textContent = view ? 'Private chat' : 'People';
    list.replaceChildren(...(view ? [h('li', { class: 'member' }, nameTag(view.name))] : []));
    return;
  }
  heading.textContent = `${view.members.size} in ${view.name}`;
  list.replaceChildren(
    ...view.sortedMembers().map((m) => {
      const prefix = m.op ? '@' : m.voice ? '+' : '';
      const self = m.name.toLowerCase() === me.toLowerCase();
      return h(
        'li',
        { class: `member${m.away ? ' away' : ''}` },
        h(
          'button',
          {
            title: self ? 'You' : `Private chat with ${m.name}${m.away ? ' (away)' : ''}`,
            attrs: { type: 'button', ...(self ? { disabled: '' } : {}) },
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
