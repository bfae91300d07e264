/**
 * The chat page's controller: turns server messages into view updates and typed input
 * into requests. Rendering is cheap and coalesced to one pass per animation frame.
 */
import { HELP, HELP_KEYS, parseInput, type Action } from './commands.js';
import { Connection, ServerError, type ConnState } from './connection.js';
import { byId } from './dom.js';
import { fold } from './format.js';
import type { ServerMessage, WireMessage, WireRoom } from './protocol.js';
import { handleEvent, messageLine } from './events.js';
import { renderBanner } from './ui/banner.js';
import { Composer } from './ui/composer.js';
import { Drawers } from './ui/drawers.js';
import type { Line } from './ui/log.js';
import { renderMembers } from './ui/members.js';
import { SearchPanel } from './ui/search.js';
import { renderSidebar } from './ui/sidebar.js';
import { compareIds } from './ui/log.js';
import { View, Views } from './views.js';
import * as saved from './saved.js';

const HISTORY_PAGE = 50;
/**
 * The server keeps at most this many bytes of a message and cuts the rest (the core's
 * maxMessageBytes); better to say so before sending than to lose the end silently.
 */
const MAX_MESSAGE_BYTES = 4000;
const utf8 = new TextEncoder();

export class App {
  me = '';
  /** The account this connection identified as (private history needs one), or null. */
  account: string | null = null;
  readonly views = new Views((v) => this.loadOlder(v));
  directory: WireRoom[] = [];
  /** The directory's counts are from before the connection dropped. */
  directoryStale = false;
  shutdown: string | null = null;
  /** A room the reader asked to open; its join reply switches to it. */
  pendingSwitch: string | null = null;
  /** Rooms we leave silently after reconnecting (the server's default room). */
  readonly quietParts = new Set<string>();
  /** Reconnecting: the MOTD that greets every hello was read already; skip it. */
  quietGreeting = false;
  /** Server notices that arrived before any view existed (the MOTD). */
  private early: Line[] = [];
  private loggedIn = false;
  private renderQueued = false;
  private readonly conn: Connection;
  private readonly composer: Composer;
  private readonly drawers: Drawers;
  private readonly search: SearchPanel;
  private roomsTimer: number | undefined;

  constructor(url: string) {
    this.conn = new Connection(url);
    this.conn.onOpen = () => this.hello(saved.name() ?? '', 0);
    this.conn.onMessage = (m) => this.receive(m);
    this.conn.onState = (s) => this.connState(s);
    this.composer = new Composer(
      byId<HTMLInputElement>('input'),
      byId<HTMLFormElement>('composer'),
      (text) => this.submit(text),
      () => this.views.active?.memberNames() ?? [],
    );
    this.drawers = new Drawers(this.composer);
    this.search = new SearchPanel({
      request: (m) => this.conn.request(m),
      open: (hit) => {
        const view =
          hit.room !== undefined ? this.views.get(hit.room) : this.views.ensure(hit.with ?? '');
        if (view) this.select(view);
        this.search.close();
      },
      done: () => this.composer.focus(),
    });
  }

  start(): void {
    const form = byId<HTMLFormElement>('login-form');
    const nameInput = byId<HTMLInputElement>('login-name');
    nameInput.value = saved.name() ?? '';
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const name = nameInput.value.trim();
      if (!name) return;
      saved.setName(name);
      byId('login-error').textContent = '';
      if (this.conn.state.kind === 'open') this.hello(name, 0);
      else this.conn.connect();
    });
    this.drawers.start();
    this.search.start();
    byId<HTMLFormElement>('join-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = byId<HTMLInputElement>('join-room');
      const room = input.value.trim();
      if (room) this.run({ kind: 'join', room: room.startsWith('#') ? room : `#${room}` });
      input.value = '';
    });
    window.addEventListener('online', () => this.conn.retryNow());
    // Lines that arrived while the tab was hidden were counted; now they have been seen.
    document.addEventListener('visibilitychange', () => {
      const view = this.views.active;
      if (document.hidden || !view) return;
      view.unread = 0;
      view.mentioned = false;
      // render() marks what is now seen as read.
      this.render();
    });
    document.addEventListener('keydown', (e) => {
      // Alt+Up/Down moves between views, like most chat apps.
      if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
        e.preventDefault();
        this.cycle(e.key === 'ArrowUp' ? -1 : 1);
      }
    });
  }

  // ---- connection --------------------------------------------------------------------

  private hello(name: string, tries: number): void {
    if (!name) return;
    this.quietGreeting = this.loggedIn;
    // Back after a drop or a restart: the token proves this is the same person (the name
    // comes back), and each room's newest id says where its replay starts (no holes, and
    // no line shown twice: the log drops ids it has).
    const token = saved.token();
    const since: Record<string, string> = {};
    for (const v of this.views.rooms()) if (v.log.newestId !== null) since[v.name] = v.log.newestId;
    this.conn
      .request({
        type: 'hello',
        name,
        client: 'plugboard-web',
        ...(token ? { token } : {}),
        ...(Object.keys(since).length > 0 ? { since } : {}),
      })
      .then((m) => {
        if (m.type === 'welcome') {
          if (m.token) saved.setToken(m.token);
          this.welcome(m.name, m.rooms[0]?.name);
        }
      })
      .catch((err: ServerError) => {
        if (err.code === 'offline') return;
        if (this.loggedIn && err.code === 'name_in_use' && tries < 5) {
          // Our old connection may still hold the name until the server notices it is
          // gone; carry on under a variant rather than leave the reader stuck.
          this.hello(variantName(saved.name() ?? name, tries + 1), tries + 1);
          return;
        }
        this.loggedIn = false;
        byId('app').hidden = true;
        byId('login').hidden = false;
        byId('login-error').textContent = err.message;
        byId('login-name').focus();
      });
  }

  private welcome(name: string, defaultRoom: string | undefined): void {
    const wasIn = this.loggedIn;
    this.me = name;
    this.account = null; // a new connection is not identified yet
    this.loggedIn = true;
    this.shutdown = null;
    byId('login').hidden = true;
    byId('app').hidden = false;
    byId('me').textContent = name;
    renderBanner(this.conn.state, null, () => this.conn.retryNow());
    if (wasIn) this.system('Reconnected.');
    // The server put us in its default room; rejoin everything else we were in (this
    // connection's rooms, or the last page's), and leave the default room if we had left it.
    const rooms = saved.rooms();
    const landed = defaultRoom ?? '';
    for (const room of rooms) {
      // Already there (and its replay on the way): joining again would page its history.
      if (fold(room) === fold(landed)) continue;
      this.conn.request({ type: 'join', room }).catch((e: Error) => {
        // Not back in: what the view knew of the room is over (its join reply would have
        // replaced it).
        const view = this.views.get(room);
        if (view) {
          view.joined = false;
          view.stale = false;
          view.members.clear();
        }
        this.system(e.message, 'error', view);
      });
    }
    if (rooms.length > 0 && landed && !rooms.some((r) => fold(r) === fold(landed))) {
      this.quietParts.add(fold(landed));
      this.conn.request({ type: 'part', room: landed }).catch(() => {});
    }
    this.refreshRooms();
    window.clearInterval(this.roomsTimer);
    this.roomsTimer = window.setInterval(() => this.refreshRooms(), 20_000);
    this.composer.focus();
    this.render();
  }

  private connState(s: ConnState): void {
    if (s.kind !== 'open') {
      window.clearInterval(this.roomsTimer);
      // Who is where, counts and topics stop being news: each room's join reply on the
      // next connection replaces them, the directory's next answer replaces its counts.
      for (const v of this.views.rooms()) {
        v.loadingHistory = false;
        v.stale = true;
      }
      this.directoryStale = true;
      this.render();
    }
    if (this.loggedIn) renderBanner(s, this.shutdown, () => this.conn.retryNow());
    else if (s.kind === 'waiting') {
      byId('login-error').textContent = `Cannot reach the server (${s.reason}); retrying…`;
    }
  }

  refreshRooms(): void {
    this.conn
      .request({ type: 'rooms' })
      .then((m) => {
        if (m.type === 'rooms') {
          this.directory = m.rooms;
          this.directoryStale = false;
          this.render();
        }
      })
      .catch(() => {});
  }

  private receive(m: ServerMessage): void {
    // Errors that answer a request are shown by whoever made the request.
    if (m.type === 'error' && m.ref !== undefined) return;
    handleEvent(this, m);
    this.render();
  }

  // ---- views -------------------------------------------------------------------------

  /** Adds lines to a view, counting unread ones when the reader is elsewhere. */
  addLines(view: View, lines: Line[], count = true): void {
    if (this.early.length && view.kind === 'room') {
      const early = this.early;
      this.early = [];
      view.log.add(early);
    }
    const added = view.log.add(lines);
    if (count && added > 0 && (view !== this.views.active || document.hidden)) {
      const real = lines.filter((l) => (l.kind === 'say' || l.kind === 'me') && !l.self);
      view.unread += Math.min(added, real.length);
      if (real.some((l) => l.mention) || (view.kind === 'dm' && real.length > 0)) {
        view.mentioned = true;
      }
    }
  }

  /** A line from the client itself (answers, errors) in the current view. */
  system(text: string, kind: 'event' | 'error' = 'event', view = this.views.active): void {
    this.post({ ts: Date.now(), kind, text }, view);
  }

  /** A line (or block) from the client itself, never counted as unread. */
  private post(line: Line, view = this.views.active): void {
    if (view) this.addLines(view, [line], false);
    else this.early.push(line);
    this.render();
  }

  earlyNotice(line: Line): void {
    if (this.views.active) this.addLines(this.views.active, [line], false);
    else this.early.push(line);
  }

  select(view: View): void {
    const prev = this.views.active;
    if (prev && prev !== view) {
      prev.log.el.hidden = true;
      prev.atBottom = prev.log.nearBottom();
      prev.scrollTop = prev.log.el.scrollTop;
    }
    this.views.active = view;
    view.unread = 0;
    view.mentioned = false;
    const logs = byId('logs');
    if (view.log.el.parentElement !== logs) {
      logs.append(view.log.el);
      view.log.el.addEventListener('scroll', () => {
        if (view.log.el.scrollTop < 80) this.loadOlder(view);
      });
    }
    view.log.el.hidden = false;
    if (view.atBottom) view.log.scrollToBottom();
    else view.log.el.scrollTop = view.scrollTop;
    this.fill(view);
    this.drawers.close();
    this.render();
    this.composer.focus();
  }

  private cycle(step: number): void {
    const all = [...this.views.rooms(), ...this.views.dms()];
    if (all.length === 0) return;
    const i = this.views.active ? all.indexOf(this.views.active) : -1;
    const next = all[(i + step + all.length) % all.length];
    if (next) this.select(next);
  }

  /**
   * Fetches older history while the shown view does not fill its height: with no scroll
   * bar, "scroll up for more" cannot happen.
   */
  fill(view: View): void {
    const el = view.log.el;
    if (view !== this.views.active || el.clientHeight === 0) return;
    if (el.scrollHeight <= el.clientHeight) this.loadOlder(view);
  }

  /** Pages history backwards (the button at the top, or scrolling up). */
  loadOlder(view: View): void {
    if (!this.canPage(view) || view.loadingHistory) return;
    if (this.conn.state.kind !== 'open') return;
    view.loadingHistory = true;
    const before = view.log.oldestId;
    const page = { limit: HISTORY_PAGE, ...(before ? { before } : {}) };
    this.render();
    this.conn
      .request(
        view.kind === 'room'
          ? { type: 'history', room: view.name, ...page }
          : { type: 'dm_history', with: view.name, ...page },
      )
      .then(
        (m) => {
          if (m.type === 'dm_history') {
            // Room pages arrive as 'history' events; private ones are added here.
            this.addLines(
              view,
              m.messages.map((e) => messageLine(this, e)),
              false,
            );
          }
          if ((m.type === 'history' || m.type === 'dm_history') && m.messages.length < HISTORY_PAGE)
            view.historyDone = true;
          return true;
        },
        (e: Error) => {
          this.system(e.message, 'error', view);
          return false;
        },
      )
      .then((ok) => {
        view.loadingHistory = false;
        // Keep filling only after a page arrived: a failing store must not become a loop.
        if (ok) this.fill(view);
        this.render();
      });
  }

  /** Messages per history page this page asks for. */
  readonly historyPageSize = HISTORY_PAGE;

  /** One page of a room's history before `before`, oldest first (a resume's hole, ui/gap.ts). */
  historyBefore(view: View, before: string, limit: number): Promise<WireMessage[] | null> {
    // The reply is a `history` event too: handleEvent adds its lines before this resolves.
    return this.conn.request({ type: 'history', room: view.name, before, limit }).then(
      (m) => (m.type === 'history' ? m.messages : []),
      (e: Error) => {
        this.system(e.message, 'error', view);
        return null;
      },
    );
  }

  /** Rooms page while joined; private chats once identified (they are kept per account). */
  canPage(view: View): boolean {
    if (view.historyDone) return false;
    return view.kind === 'room' ? view.joined : this.account !== null;
  }

  /** After /identify: private chats already open can now show what came before. */
  private identified(account: string): void {
    this.account = account;
    this.system(`You are identified as ${account}.`);
    for (const v of this.views.dms()) {
      v.historyDone = false;
      this.fill(v);
    }
    // The account's read markers (set on another device, or before a reload): what is
    // new since is shown as unread, below a "New messages" line.
    this.conn
      .request({ type: 'markers' })
      .then((m) => {
        if (m.type !== 'markers') return;
        for (const { room, id } of m.markers) {
          const view = this.views.get(room);
          if (view) this.showMarker(view, id);
        }
        this.render();
      })
      .catch(() => {});
  }

  // ---- read markers ------------------------------------------------------------------

  /** True while the reader can see `view`. */
  private visible(view: View): boolean {
    return view === this.views.active && !document.hidden;
  }

  /**
   * Takes the account's marker for `view` (from a join, the `markers` answer, another
   * device) and shows what came after it as unread. A marker older than one this page
   * knows changes nothing.
   */
  showMarker(view: View, id: string | null = view.marker): void {
    if (id === null) return;
    if (view.marker !== null && compareIds(id, view.marker) < 0) return;
    view.marker = id;
    const unread = view.log.markUnread(id);
    if (!this.visible(view)) view.unread = unread;
  }

  /** The reader sees `view`: its newest message is read (identified readers keep that). */
  private markSeen(view: View): void {
    const newest = view.log.newestId;
    if (this.account === null || newest === null || this.conn.state.kind !== 'open') return;
    if (view.marker !== null && compareIds(newest, view.marker) <= 0) return;
    if (view.markedTo !== null && compareIds(newest, view.markedTo) <= 0) return;
    view.markedTo = newest;
    this.conn
      .request({ type: 'markread', room: view.name, id: newest })
      .then((m) => {
        if (m.type === 'marker' && (view.marker === null || compareIds(m.id, view.marker) > 0)) {
          view.marker = m.id;
        }
      })
      .catch(() => {
        view.markedTo = null;
      });
  }

  closeView(view: View): void {
    this.views.remove(view);
    const next = this.views.rooms().find((v) => v.joined) ?? this.views.all()[0];
    if (next) this.select(next);
    else this.render();
  }

  // ---- input -------------------------------------------------------------------------

  private submit(text: string): boolean {
    const action = parseInput(text);
    if (!action) return false;
    if (action.kind === 'help' || action.kind === 'error') return this.run(action);
    if ('text' in action && action.text !== undefined) {
      const bytes = utf8.encode(action.text).length;
      if (bytes > MAX_MESSAGE_BYTES) {
        this.system(
          `That message is ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES}. Shorten or split it (it is still in the box).`,
          'error',
        );
        return false;
      }
    }
    if (this.conn.state.kind !== 'open') {
      this.system('Not connected: your message was not sent (it is still in the box).', 'error');
      return false;
    }
    return this.run(action);
  }

  run(action: Action): boolean {
    const view = this.views.active;
    const fail = (e: Error): void => this.system(e.message, 'error');
    const send = (m: Parameters<Connection['request']>[0]): void => {
      this.conn.request(m).catch(fail);
    };
    switch (action.kind) {
      case 'say':
      case 'me':
        if (!view) return false;
        if (view.kind === 'dm') {
          if (action.kind === 'me') {
            this.system('/me works in rooms; in a private chat, just type.', 'error');
            return false;
          }
          send({ type: 'dm', to: view.name, text: action.text });
        } else if (!view.joined) {
          this.system(`You are not in ${view.name}: /join ${view.name} first.`, 'error');
          return false;
        } else {
          send({ type: action.kind, room: view.name, text: action.text });
        }
        return true;
      case 'join': {
        const existing = this.views.get(action.room);
        if (existing?.joined) {
          this.select(existing);
          return true;
        }
        this.pendingSwitch = fold(action.room);
        send({ type: 'join', room: action.room, ...(action.key ? { key: action.key } : {}) });
        return true;
      }
      case 'part': {
        const target = action.room ? this.views.get(action.room) : view;
        if (!target) {
          this.system(`You are not in ${action.room ?? 'a room'}.`, 'error');
          return false;
        }
        if (target.kind === 'dm' || !target.joined) {
          this.closeView(target);
          return true;
        }
        this.conn
          .request({
            type: 'part',
            room: target.name,
            ...(action.reason ? { reason: action.reason } : {}),
          })
          .then(() => {
            saved.forgetRoom(target.name);
            this.closeView(target);
          })
          .catch(fail);
        return true;
      }
      case 'msg':
        this.select(this.views.ensure(action.to));
        send({ type: 'dm', to: action.to, text: action.text });
        return true;
      case 'query':
        this.select(this.views.ensure(action.to));
        return true;
      case 'nick':
        send({ type: 'nick', name: action.name });
        return true;
      case 'topic':
        if (!view || view.kind !== 'room')
          return this.run({ kind: 'error', message: '/topic works in rooms' });
        if (action.topic === undefined) {
          this.system(view.topic ? `Topic: ${view.topic}` : `${view.name} has no topic.`);
          return true;
        }
        send({ type: 'topic', room: view.name, topic: action.topic });
        return true;
      case 'rename':
        if (!view || view.kind !== 'room' || !view.joined)
          return this.run({ kind: 'error', message: '/rename works in a room you are in' });
        // Everyone in the room, this page included, is told by the `rename` event.
        this.conn
          .request({
            type: 'rename',
            room: view.name,
            to: action.to,
            ...(action.reason ? { reason: action.reason } : {}),
          })
          .catch(fail);
        return true;
      case 'register':
        this.conn
          .request({ type: 'register', password: action.password })
          .then(() => this.identified(this.me))
          .catch(fail);
        return true;
      case 'identify': {
        const account = action.account ?? this.me;
        this.conn
          .request({
            type: 'identify',
            password: action.password,
            ...(action.account ? { name: action.account } : {}),
          })
          .then(() => this.identified(account))
          .catch(fail);
        return true;
      }
      case 'away':
        this.conn
          .request({ type: 'away', ...(action.text ? { text: action.text } : {}) })
          .then(() => this.system(action.text ? `You are away: ${action.text}` : 'You are back.'))
          .catch(fail);
        return true;
      case 'who':
        if (!view || view.kind !== 'room')
          return this.run({ kind: 'error', message: '/who works in rooms' });
        this.system(
          `In ${view.name}: ${view
            .sortedMembers()
            .map((m) => m.name)
            .join(', ')}`,
        );
        return true;
      case 'rooms':
        this.refreshRooms();
        this.drawers.toggle('rooms');
        return true;
      case 'search':
        this.search.run(action.q);
        return true;
      case 'help':
        this.post({ ts: Date.now(), kind: 'help', text: 'Commands', rows: HELP, foot: HELP_KEYS });
        return true;
      case 'error':
        this.system(action.message, 'error');
        return false;
    }
  }

  // ---- rendering ---------------------------------------------------------------------

  render(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.draw();
    });
  }

  private draw(): void {
    const view = this.views.active;
    const offline = this.conn.state.kind !== 'open';
    renderSidebar(
      this.views,
      this.directory,
      {
        select: (v) => this.select(v),
        join: (room) => this.run({ kind: 'join', room }),
        close: (v) => this.closeView(v),
      },
      offline || this.directoryStale,
    );
    // What the member list says when it is not the server's current word.
    const stale = offline || (view?.kind === 'room' && view.stale);
    renderMembers(
      view,
      this.me,
      (name) => this.select(this.views.ensure(name)),
      offline ? 'offline — reconnecting…' : stale ? 'updating…' : null,
    );
    byId('view-name').textContent = view ? view.name : '';
    const topic = byId('view-topic');
    topic.classList.toggle('stale', stale);
    topic.textContent =
      view?.kind === 'room' ? view.topic || 'No topic' : view ? 'Private chat' : '';
    topic.title = topic.textContent;
    if (view) {
      const canPage = this.canPage(view);
      view.log.more.hidden = !canPage;
      view.log.more.disabled = view.loadingHistory;
      view.log.more.textContent = view.loadingHistory ? 'Loading…' : 'Load earlier messages';
      this.composer.setPlaceholder(
        view.kind === 'dm'
          ? `Message ${view.name}`
          : view.joined
            ? `Message ${view.name}`
            : `/join ${view.name}`,
      );
    }
    const unread = this.views.all().reduce((n, v) => n + v.unread, 0);
    // On a phone the rooms are behind a button: it shows what is waiting behind it.
    const elsewhere = this.views.all().filter((v) => v !== view && v.unread > 0);
    const corner = byId('rooms-unread');
    const waiting = elsewhere.reduce((n, v) => n + v.unread, 0);
    corner.hidden = waiting === 0;
    corner.textContent = waiting > 99 ? '99+' : String(waiting);
    corner.className = elsewhere.some((v) => v.mentioned) ? 'badge corner mention' : 'badge corner';
    byId('toggle-rooms').setAttribute(
      'aria-label',
      waiting ? `Rooms (${waiting} unread elsewhere)` : 'Rooms',
    );
    document.title = `${unread ? `(${unread}) ` : ''}${view ? `${view.name} · ` : ''}Plugboard`;
    if (view && this.visible(view)) this.markSeen(view);
  }
}

/** "alice" → "alice_", "alice_2", ... when the name is still held by our old connection. */
function variantName(base: string, tries: number): string {
  const suffix = tries === 1 ? '_' : `_${tries}`;
  return base.slice(0, 30 - suffix.length) + suffix;
}
