/**
 * Ban masks (`nick!user@host` with `*` and `?`): completed the way IRC servers do and
 * checked where they enter (IRC `MODE +b`, `/ban`, the admin console), because a mask is
 * shown to others (ban lists, mode lines) and matched against everyone who joins or speaks.
 */
import { ChatError, ErrorCode } from './errors.js';
import { stripControls } from './text.js';
import { maxMaskLength } from './wildcard.js';

/** Completes a partial ban mask: "bob" → "bob!*@*", "*@10.0.0.1" → "*!*@10.0.0.1". */
export function normalizeMask(mask: string): string {
  if (mask.includes('!') || mask.includes('@')) {
    const [nickPart, rest = '*@*'] = mask.includes('!') ? mask.split('!', 2) : ['*', mask];
    const [user = '*', host = '*'] = rest.includes('@') ? rest.split('@', 2) : [rest, '*'];
    return `${nickPart || '*'}!${user || '*'}@${host || '*'}`;
  }
  return `${mask}!*@*`;
}

/**
 * A mask fit to keep and show: no controls or spaces (it would forge or split a protocol
 * line), no leading ':' (IRC shows masks as middle parameters, and one starting with ':'
 * is read as the last parameter, swallowing what follows it: RFC 1459 2.3.1), at most
 * `maxMaskLength` characters, completed. Throws a ChatError otherwise.
 */
export function checkMask(input: string): string {
  if (input === '' || stripControls(input) !== input || /\s/.test(input) || input[0] === ':') {
    throw new ChatError(
      ErrorCode.BadRequest,
      'A mask cannot be empty, start with ":" or hold spaces or controls',
    );
  }
  const mask = normalizeMask(input);
  if (mask.length > maxMaskLength) {
    throw new ChatError(
      ErrorCode.BadRequest,
      `A mask is at most ${maxMaskLength} characters`,
      input.slice(0, 50),
    );
  }
  return mask;
}
