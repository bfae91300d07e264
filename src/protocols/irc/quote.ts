/**
 * What a reply names back to the client that caused it: the channel, nick, command or mask
 * it sent (RFC 2812 5.2: `403 <channel name> :No such channel`; `318 <nick> :End of
 * WHOIS list`). Through the one cleaning rule (core/text.ts) like everything else the
 * server shows, so a client's own control characters, escape sequences and bidi controls
 * do not come back to its terminal. In an error reply it also stays exactly one parameter:
 * a middle one that cleaning leaves empty, or that holds a space or starts with `:` (the
 * client's trailing parameter put in a middle place), would shift the parameters after
 * it, so it is named `*` instead.
 */
import { cleanText } from '../../core/text.js';

/** The 4xx and 5xx numerics are the error replies (RFC 2812 5.2). */
export function isErrorNumeric(command: string): boolean {
  return command.length === 3 && (command[0] === '4' || command[0] === '5');
}

/** `param` as a reply may carry it; `anywhere`: the trailing parameter, or not an error. */
export function quoteParam(param: string, anywhere: boolean, maxBytes: number): string {
  const clean = cleanText(param, maxBytes);
  if (anywhere) return clean;
  return clean === '' || clean.includes(' ') || clean.startsWith(':') ? '*' : clean;
}
