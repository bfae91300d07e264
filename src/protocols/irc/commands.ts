/**
 * Every IRC command this server knows, as one table built from the handler families.
 * The dispatcher (connection.ts) reads `minParams` and `preRegistration` from here.
 */
import type { IrcCommand } from './command.js';
import { accounts } from './handlers/accounts.js';
import { cap } from './handlers/cap.js';
import { channels } from './handlers/channels.js';
import { chathistory } from './handlers/chathistory.js';
import { messaging } from './handlers/messaging.js';
import { modes } from './handlers/modes.js';
import { monitor } from './handlers/monitor.js';
import { oper } from './handlers/oper.js';
import { queries } from './handlers/queries.js';
import { readMarker } from './handlers/read-marker.js';
import { registration } from './handlers/registration.js';
import { rename } from './handlers/rename.js';
import { setname } from './handlers/setname.js';

export const commandTable: ReadonlyMap<string, IrcCommand> = new Map(
  [
    ...registration,
    ...cap,
    ...accounts,
    ...channels,
    ...messaging,
    ...chathistory,
    ...readMarker,
    ...queries,
    ...modes,
    ...oper,
    ...monitor,
    ...setname,
    ...rename,
  ].map((c) => [c.name, c]),
);
