/**
 * The side panels that become drawers on narrow screens: the rooms (phones) and the member
 * list (up to tablet width). A drawer opened takes the keyboard; Escape closes it and hands
 * typing back to the composer; a closed drawer is out of the Tab order as well as off screen.
 */
import { byId } from '../dom.js';

export type Drawer = 'rooms' | 'members';

/** When each panel is a drawer: the widths of styles.css's two media queries. */
const QUERIES: Record<Drawer, string> = {
  rooms: '(max-width: 760px)',
  members: '(max-width: 1000px)',
};
const PANELS: Record<Drawer, string> = { rooms: 'sidebar', members: 'members' };
const ALL = Object.keys(QUERIES) as Drawer[];

export class Drawers {
  constructor(private readonly composer: { focus(): void }) {}

  /** Wires the buttons, the scrim and Escape; call once. */
  start(): void {
    for (const d of ALL) {
      byId(`toggle-${d}`).addEventListener('click', () => this.toggle(d));
      window.matchMedia(QUERIES[d]).addEventListener('change', () => this.sync());
    }
    byId('scrim').addEventListener('click', () => {
      // Back to the button that opened it: no keyboard popping up on a phone.
      const open = this.shown();
      this.close();
      if (open) byId(`toggle-${open}`).focus();
    });
    document.addEventListener('keydown', (e) => {
      // Escape closes a drawer, as it closes any overlay, and typing resumes.
      if (e.key === 'Escape' && this.isOpen()) {
        e.preventDefault();
        this.close();
        this.composer.focus();
      }
    });
    this.sync();
  }

  /** Opens a drawer, or closes it when it is the one open. */
  toggle(which: Drawer): void {
    const opening = this.shown() !== which;
    this.set(opening ? which : null);
    // A panel that is not a drawer here (a wide screen) is always in view: focus stays put.
    if (!opening || !window.matchMedia(QUERIES[which]).matches) return;
    // The current room, else the first thing to press, else the panel itself (a member
    // list of only yourself has nothing to press).
    const panel = byId(PANELS[which]);
    const target =
      panel.querySelector<HTMLElement>('[aria-current="page"]') ??
      panel.querySelector<HTMLElement>('button:not(:disabled), input') ??
      panel;
    target.focus();
  }

  close(): void {
    this.set(null);
  }

  /** A drawer is open: one was opened and the screen is narrow enough for it to be one. */
  isOpen(): boolean {
    const open = this.shown();
    return open !== null && window.matchMedia(QUERIES[open]).matches;
  }

  private shown(): Drawer | null {
    const app = byId('app');
    return ALL.find((d) => app.classList.contains(`show-${d}`)) ?? null;
  }

  private set(which: Drawer | null): void {
    const app = byId('app');
    app.classList.remove(...ALL.map((d) => `show-${d}`));
    if (which) app.classList.add(`show-${which}`);
    this.sync();
  }

  /** `inert` for closed drawers (they are only slid away); each button says its state. */
  private sync(): void {
    const open = this.shown();
    for (const d of ALL) {
      const isDrawer = window.matchMedia(QUERIES[d]).matches;
      byId(PANELS[d]).inert = isDrawer && open !== d;
      byId(`toggle-${d}`).setAttribute('aria-expanded', String(isDrawer && open === d));
    }
  }
}
