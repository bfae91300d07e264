/**
 * The shape of one IRC command in the declarative table (ergo's irc/commands.go habit):
 * the dispatcher checks registration and parameter count, so handlers only do the work.
 */
import type { IrcClient } from './client.js';
import type { IrcMessage } from './codec.js';

export interface IrcCommand {
  name: string;
  /** Fewer parameters get ERR_NEEDMOREPARAMS (461). */
  minParams: number;
  /** Allowed before registration completes (RFC 2812 3.1); others get ERR_NOTREGISTERED. */
  preRegistration?: boolean;
  run(c: IrcClient, m: IrcMessage): void | Promise<void>;
}
