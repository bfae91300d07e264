/** Message text as DOM: text nodes, and anchors for http(s) links only. */
import { h } from '../dom.js';
import { nameHue } from '../format.js';
import { linkify } from '../linkify.js';

export function richText(text: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  for (const seg of linkify(text)) {
    if (seg.kind === 'text') frag.append(document.createTextNode(seg.text));
    else {
      frag.append(
        h('a', {
          text: seg.text,
          // noopener: the new tab cannot navigate this one; noreferrer: the site does not
          // learn which chat linked to it.
          attrs: { href: seg.href, target: '_blank', rel: 'noopener noreferrer' },
        }),
      );
    }
  }
  return frag;
}

export function nameTag(name: string, cls = 'from'): HTMLElement {
  const el = h('span', { class: cls, text: name });
  el.style.setProperty('--hue', String(nameHue(name)));
  return el;
}
