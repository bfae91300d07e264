/**
 * IRCv3 capabilities this server offers (ircv3.net/specs/extensions/capability-negotiation).
 * Each has a bit, so a connection's enabled set is one number and the encoder can build
 * its variant key from a few bits without allocating.
 */
export const Cap = {
  MessageTags: 1 << 0,
  ServerTime: 1 << 1,
  EchoMessage: 1 << 2,
  MultiPrefix: 1 << 3,
  AwayNotify: 1 << 4,
  AccountNotify: 1 << 5,
  ExtendedJoin: 1 << 6,
  CapNotify: 1 << 7,
  Batch: 1 << 8,
  LabeledResponse: 1 << 9,
  UserhostInNames: 1 << 10,
  AccountTag: 1 << 11,
  Sasl: 1 << 12,
  ExtendedMonitor: 1 << 13,
  Setname: 1 << 14,
  InviteNotify: 1 << 15,
  ChatHistory: 1 << 16,
  ReadMarker: 1 << 17,
  EventPlayback: 1 << 18,
  Chghost: 1 << 19,
  ChannelRename: 1 << 20,
} as const;

export interface CapInfo {
  name: string;
  bit: number;
  /** Value shown in `CAP LS 302` (e.g. sasl=PLAIN), or ''. */
  value: string;
}

/** Offered in this order in CAP LS. */
export const CAPS: readonly CapInfo[] = [
  { name: 'account-notify', bit: Cap.AccountNotify, value: '' },
  { name: 'account-tag', bit: Cap.AccountTag, value: '' },
  { name: 'away-notify', bit: Cap.AwayNotify, value: '' },
  { name: 'batch', bit: Cap.Batch, value: '' },
  { name: 'cap-notify', bit: Cap.CapNotify, value: '' },
  { name: 'chghost', bit: Cap.Chghost, value: '' },
  { name: 'draft/channel-rename', bit: Cap.ChannelRename, value: '' },
  { name: 'draft/chathistory', bit: Cap.ChatHistory, value: '' },
  { name: 'draft/event-playback', bit: Cap.EventPlayback, value: '' },
  { name: 'draft/read-marker', bit: Cap.ReadMarker, value: '' },
  { name: 'echo-message', bit: Cap.EchoMessage, value: '' },
  { name: 'extended-join', bit: Cap.ExtendedJoin, value: '' },
  { name: 'extended-monitor', bit: Cap.ExtendedMonitor, value: '' },
  { name: 'invite-notify', bit: Cap.InviteNotify, value: '' },
  { name: 'labeled-response', bit: Cap.LabeledResponse, value: '' },
  { name: 'message-tags', bit: Cap.MessageTags, value: '' },
  { name: 'multi-prefix', bit: Cap.MultiPrefix, value: '' },
  { name: 'sasl', bit: Cap.Sasl, value: 'PLAIN' },
  { name: 'server-time', bit: Cap.ServerTime, value: '' },
  { name: 'setname', bit: Cap.Setname, value: '' },
  { name: 'userhost-in-names', bit: Cap.UserhostInNames, value: '' },
];

export const capsByName = new Map(CAPS.map((c) => [c.name, c]));

/** Names of the enabled capabilities, for CAP LIST. */
export function capNames(bits: number): string[] {
  return CAPS.filter((c) => (bits & c.bit) !== 0).map((c) => c.name);
}
