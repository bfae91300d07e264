/**
 * Server events → view changes. Each case is small: update members, topic or name, and
 * add a line the reader can see.
 */
import type { App } from './app.js';
import { fold } from './format.js';
import type { Of, ServerMessage, WireDirect, WireMessage } from './protocol.js';
import { shutdownText } from './ui/banner.js';
import { GapNotice } from './ui/gap.js';
import type { Line } from './ui/log.js';
import type { View } from './views.js';
import * as saved from './saved.js';

function mentions(text: string, me: string): boolean {
  if (!me) return false;
  const escaped = me.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w])${escaped}($|[^\\w])`, 'i').test(text);
}

export function messageLine(app: App, m: WireMessage | Of<'dm'> | WireDirect): Line {
  // Stored private messages name accounts; live ones name people as they are called now.
  const self =
    fold(m.from) === fold(app.me) || (app.account !== null && fold(m.from) === fold(app.account));
  return {
    id: m.id,
    ts: m.ts,
    kind: m.kind === 'me' ? 'me' : m.kind === 'notice' ? 'notice' : 'say',
    from: m.from,
    text: m.text,
    self,
    mention: !self && mentions(m.text, app.me),
  };
}

function event(app: App, view: View | undefined, ts: number, text: string): void {
  if (view) app.addLines(view, [{ ts, kind: 'event', text }], false);
}

function joined(app: App, m: Of<'joined'>): void {
  if (fold(m.name) === fold(app.me) && m.members) {
    app.quietGreeting = false; // the greeting ends with the default room's join reply
    const fresh = !app.views.get(m.room);
    const view = app.views.ensure(m.room);
    view.name = m.room;
    view.joined = true;
    view.topic = m.topic ?? '';
    view.setMembers(m.members);
    // The account's read marker; the join's history, which follows, is measured against it.
    view.pendingMarker = m.marker ?? null;
    saved.rememberRoom(m.room);
    if (fresh) event(app, view, m.ts, `You joined ${m.room}`);
    if (!app.views.active || app.pendingSwitch === fold(m.room)) {
      app.pendingSwitch = null;
      app.select(view);
    }
    return;
  }
  const view = app.views.get(m.room);
  if (!view) return;
  view.members.set(fold(m.name), { name: m.name, op: false, voice: false, away: false });
  event(app, view, m.ts, `→ ${m.name} joined`);
}

function left(app: App, m: Of<'left'>): void {
  const view = app.views.get(m.room);
  if (!view) return;
  const why = m.reason ? ` (${m.reason})` : '';
  if (fold(m.name) === fold(app.me)) {
    view.joined = false;
    view.members.clear();
    if (app.quietParts.delete(fold(m.room))) {
      app.closeView(view);
      return;
    }
    if (m.by) {
      saved.forgetRoom(m.room);
      event(app, view, m.ts, `You were removed from ${m.room} by ${m.by}${why}`);
    }
    return;
  }
  view.members.delete(fold(m.name));
  event(
    app,
    view,
    m.ts,
    m.by ? `← ${m.name} was removed by ${m.by}${why}` : `← ${m.name} left${why}`,
  );
}

function quit(app: App, m: Of<'quit'>): void {
  const why = m.reason ? ` (${m.reason})` : '';
  for (const room of m.rooms) {
    const view = app.views.get(room);
    if (!view) continue;
    view.members.delete(fold(m.name));
    event(app, view, m.ts, `← ${m.name} quit${why}`);
  }
  event(app, app.views.get(m.name), m.ts, `${m.name} quit${why}`);
}

function nick(app: App, m: Of<'nick'>): void {
  const text = `${m.old} is now known as ${m.name}`;
  if (fold(m.old) === fold(app.me)) {
    app.me = m.name;
    saved.setName(m.name);
    const me = document.getElementById('me');
    if (me) me.textContent = m.name;
  }
  for (const view of app.views.rooms()) {
    const member = view.members.get(fold(m.old));
    if (!member) continue;
    view.members.delete(fold(m.old));
    view.members.set(fold(m.name), { ...member, name: m.name });
    event(app, view, m.ts, text);
  }
  const dm = app.views.get(m.old);
  if (dm && !app.views.get(m.name)) {
    app.views.rename(dm, m.name);
    event(app, dm, m.ts, text);
  }
}

/**
 * A room we are in took a new name: the same view moves to it, with its history, unread
 * count, read marker, members and place in the list; the room is remembered under the new
 * name (a reload or a reconnect joins that).
 */
function renamed(app: App, m: Of<'rename'>): void {
  const view = app.views.get(m.room);
  if (!view) return;
  const other = app.views.get(m.to);
  // A view of the new name left over from before (a room we had left) gives way.
  if (other && other !== view) app.closeView(other);
  app.views.rename(view, m.to);
  view.log.label(m.to);
  saved.renameRoom(m.room, m.to);
  if (app.pendingSwitch === fold(m.room)) app.pendingSwitch = fold(m.to);
  event(app, view, m.ts, m.text);
}

/** "+o-v" with params ["bob", "carol"]: op and voice are the modes members show. */
function mode(app: App, m: Of<'mode'>): void {
  const view = app.views.get(m.room);
  if (!view) return;
  let sign = '+';
  let param = 0;
  for (const ch of m.modes) {
    if (ch === '+' || ch === '-') {
      sign = ch;
      continue;
    }
    if ('ovbkle'.includes(ch) && !(ch === 'l' && sign === '-')) {
      const arg = m.params[param++];
      const member = arg ? view.members.get(fold(arg)) : undefined;
      if (member && ch === 'o') member.op = sign === '+';
      if (member && ch === 'v') member.voice = sign === '+';
    }
  }
  event(app, view, m.ts, `${m.by} sets mode ${[m.modes, ...m.params].join(' ')}`);
}

/**
 * A resume that could not replay everything says so, where the hole is; the notice's
 * button loads the hole a page at a time (ui/gap.ts).
 */
function resumeGap(app: App, view: View, m: Of<'history'>): void {
  const missed = m.missed ?? 0;
  const shown = m.messages.length;
  const first = m.messages[0];
  if (missed > shown && first !== undefined && m.after !== undefined) {
    new GapNotice(
      view.log,
      m.after,
      first,
      missed - shown,
      missed,
      app.historyPageSize,
      (before, limit) => app.historyBefore(view, before, limit),
    );
    return;
  }
  if (missed <= shown && !m.truncated) return;
  const ts = first ? first.ts - 1 : Date.now();
  const text =
    missed > shown
      ? `${missed - shown} earlier message${missed - shown === 1 ? '' : 's'} from while you were away ${missed - shown === 1 ? 'is' : 'are'} not shown (${missed} missed in all)`
      : 'Some messages from while you were away are no longer kept by the server';
  app.addLines(view, [{ ts, kind: 'error', text }], false);
}

export function handleEvent(app: App, m: ServerMessage): void {
  switch (m.type) {
    case 'message': {
      const view = app.views.get(m.room);
      if (view) app.addLines(view, [messageLine(app, m)]);
      return;
    }
    case 'dm': {
      const peer = fold(m.from) === fold(app.me) ? m.to : m.from;
      const view = app.views.ensure(peer);
      app.addLines(view, [messageLine(app, m)]);
      return;
    }
    case 'history': {
      const view = app.views.get(m.room);
      if (!view) return;
      if (m.messages.length === 0 && m.after === undefined) view.historyDone = true;
      app.addLines(
        view,
        m.messages.map((e) => messageLine(app, e)),
        // A resume replays what was missed: it is unread like anything new.
        m.after !== undefined,
      );
      if (m.after !== undefined) resumeGap(app, view, m);
      // The replay on joining; replies to our own paging requests carry a ref.
      if (m.ref === undefined) {
        app.showMarker(view, view.pendingMarker ?? view.marker);
        view.pendingMarker = null;
        app.fill(view);
      }
      return;
    }
    case 'joined':
      return joined(app, m);
    case 'marker': {
      // Read somewhere else (another device, the terminal client, IRC MARKREAD). The
      // answer to this page's own markread (it has a ref) leaves the New messages line
      // where the reader found it.
      if (m.ref !== undefined) return;
      const view = app.views.get(m.room);
      if (view) app.showMarker(view, m.id);
      return;
    }
    case 'left':
      return left(app, m);
    case 'quit':
      return quit(app, m);
    case 'nick':
      return nick(app, m);
    case 'mode':
      return mode(app, m);
    case 'rename':
      return renamed(app, m);
    case 'topic': {
      const view = app.views.get(m.room);
      if (!view) return;
      const changed = view.topic !== m.topic;
      view.topic = m.topic;
      if (changed) {
        event(
          app,
          view,
          m.ts,
          m.topic ? `${m.by || 'Someone'} set the topic: ${m.topic}` : `${m.by} cleared the topic`,
        );
      }
      return;
    }
    case 'away':
      for (const view of app.views.rooms()) {
        const member = view.members.get(fold(m.name));
        if (member) member.away = m.message !== null;
      }
      if (m.message !== null)
        event(app, app.views.get(m.name), m.ts, `${m.name} is away: ${m.message}`);
      return;
    case 'notice': {
      if (app.quietGreeting && !m.room && !m.from) return;
      const line: Line = {
        ts: m.ts,
        kind: 'notice',
        text: m.text,
        ...(m.from ? { from: m.from } : {}),
      };
      const view = m.room ? app.views.get(m.room) : m.from ? app.views.ensure(m.from) : undefined;
      if (view) app.addLines(view, [line]);
      else app.earlyNotice(line);
      return;
    }
    case 'rooms':
      app.directory = m.rooms;
      return;
    case 'who': {
      const view = app.views.get(m.room);
      if (view) view.setMembers(m.members);
      return;
    }
    case 'error':
      app.system(m.message, 'error');
      return;
    case 'shutdown':
      app.shutdown = m.reason;
      if (m.token) saved.setToken(m.token);
      for (const view of app.views.all()) {
        app.addLines(
          view,
          [{ ts: Date.now(), kind: 'error', text: shutdownText(m.reason) }],
          false,
        );
      }
      return;
    case 'welcome':
    case 'search': // shown by the search panel, which asked for it
    case 'ok':
    case 'ping':
    case 'pong':
      return;
  }
}
