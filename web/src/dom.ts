/**
 * The only way this client builds DOM: elements with properties, and children as nodes or
 * strings. Strings always become text nodes, so user text can never turn into markup.
 */
type Props = {
  class?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string>;
  on?: { [K in keyof HTMLElementEventMap]?: (e: HTMLElementEventMap[K]) => void };
};

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.text !== undefined) el.textContent = props.text;
  if (props.title !== undefined) el.title = props.title;
  for (const [k, v] of Object.entries(props.attrs ?? {})) el.setAttribute(k, v);
  for (const [type, fn] of Object.entries(props.on ?? {})) {
    el.addEventListener(type, fn as EventListener);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
}

/** What identifies a list's button across rebuilds: its role and the view, room or name. */
function buttonKey(el: Element): string | null {
  const b = el.closest('button');
  if (!b) return null;
  const d = b.dataset;
  return `${b.className.split(' ')[0] ?? ''}|${d.view ?? d.room ?? d.name ?? b.textContent ?? ''}`;
}

/**
 * Replaces a list's items without losing keyboard focus: lists are rebuilt on every render
 * (a message arriving is enough), and the focused button would go with its old self.
 */
export function replaceKeepingFocus(list: HTMLElement, items: Node[]): void {
  const active = document.activeElement;
  const key = active && list.contains(active) ? buttonKey(active) : null;
  list.replaceChildren(...items);
  if (key === null) return;
  for (const b of list.querySelectorAll('button')) {
    if (buttonKey(b) === key) {
      b.focus();
      return;
    }
  }
}
