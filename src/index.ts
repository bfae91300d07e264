/**
 * Embedding Plugboard: start a server from a configuration, or build one from the core and
 * your own ports (a Store, a Bus). Everything here is public API (`import … from
 * 'plugboard'`); the terminal client's library is `plugboard/client`.
 *
 *   import { parseServeArgs, startServer } from 'plugboard';
 *   const config = parseServeArgs(['--line-port', '0', '--store', 'memory'], {});
 *   if (config !== 'help') {
 *     const server = await startServer(config, console);
 *     console.log(server.addresses());
 *     await server.close('bye');
 *   }
 */
export { startServer, type RunningServer, type StartHooks } from './server.js';
export {
  parseServeArgs,
  serveHelp,
  ConfigError,
  configOptions,
  type ServerConfig,
  type ListenerPorts,
} from './config.js';
export {
  coreOptions,
  defaultOptions,
  type ServerOptions,
  type OptionSpec,
} from './core/options.js';
export { Hub } from './core/hub.js';
export type {
  Bus,
  BusRoute,
  BusSink,
  ClaimMode,
  ClaimResult,
  Clock,
  Connection,
  Encoder,
  HistoryQuery,
  Link,
  Logger,
  MemberInfo,
  PersonInfo,
  Presence,
  RoomInfo,
  Store,
  AccountRecord,
  BanRecord,
  RoomRecord,
} from './core/ports.js';
export type * from './core/events.js';
export type { RoomChange, RoomFlag } from './core/room-changes.js';
export { ChatError, ErrorCode } from './core/errors.js';
export { ClusterBus, type Envelope } from './cluster/bus.js';
export { LocalBus } from './cluster/local.js';
export { createStore } from './store/index.js';
