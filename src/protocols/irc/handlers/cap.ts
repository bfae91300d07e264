/**
 * CAP negotiation (ircv3.net/specs/extensions/capability-negotiation): LS, LIST, REQ, END.
 * A client that starts negotiating before registration holds registration until CAP END.
 */
import { CAPS, Cap, capNames, capsByName } from '../caps.js';
import type { IrcClient } from '../client.js';
import type { IrcCommand } from '../command.js';
import { ERR } from '../numerics.js';
import { tryRegister } from './registration.js';

/** Longest CAP LS/LIST payload per line before continuing on another (with `*`). */
const CAP_LINE_BYTES = 400;

function capReply(c: IrcClient, sub: string, items: string[]): void {
  const chunks: string[] = [];
  let cur = '';
  for (const item of items) {
    if (cur && cur.length + 1 + item.length > CAP_LINE_BYTES) {
      chunks.push(cur);
      cur = item;
    } else cur = cur ? `${cur} ${item}` : item;
  }
  chunks.push(cur);
  // Only 302 clients understand the `*` continuation marker.
  if (c.state.capVersion < 302 && chunks.length > 1)
    chunks.splice(0, chunks.length, chunks.join(' '));
  chunks.forEach((chunk, i) => {
    const more = i < chunks.length - 1 ? ['*'] : [];
    c.fromServer('CAP', c.nick, sub, ...more, chunk);
  });
}

function ls(c: IrcClient, version: string | undefined): void {
  const v = Number(version ?? 301);
  if (Number.isFinite(v) && v > c.state.capVersion) c.state.capVersion = v;
  // CAP LS 302 implies cap-notify (capability-negotiation, "cap-notify").
  if (c.state.capVersion >= 302) c.session.caps |= Cap.CapNotify;
  const withValues = c.state.capVersion >= 302;
  capReply(
    c,
    'LS',
    CAPS.map((cap) => (withValues && cap.value ? `${cap.name}=${cap.value}` : cap.name)),
  );
}

function req(c: IrcClient, list: string): void {
  let on = 0;
  let off = 0;
  for (const word of list.split(' ').filter(Boolean)) {
    const remove = word.startsWith('-');
    const cap = capsByName.get(remove ? word.slice(1) : word);
    // All or nothing: one unknown capability refuses the whole request.
    if (!cap) return c.fromServer('CAP', c.nick, 'NAK', list);
    if (remove) off |= cap.bit;
    else on |= cap.bit;
  }
  c.session.caps = (c.session.caps | on) & ~off;
  c.fromServer('CAP', c.nick, 'ACK', list);
}

export const cap: IrcCommand[] = [
  {
    name: 'CAP',
    minParams: 1,
    preRegistration: true,
    run(c, m) {
      const sub = (m.params[0] as string).toUpperCase();
      const registering = !c.session.registered;
      switch (sub) {
        case 'LS':
          if (registering) c.state.capHold = true;
          return ls(c, m.params[1]);
        case 'LIST':
          return capReply(c, 'LIST', capNames(c.session.caps));
        case 'REQ':
          if (registering) c.state.capHold = true;
          return req(c, m.params[1] ?? '');
        case 'END':
          if (!registering) return;
          c.state.capHold = false;
          return tryRegister(c);
        default:
          return c.reply(ERR.INVALIDCAPCMD, m.params[0] as string, 'Invalid CAP command');
      }
    },
  },
];
