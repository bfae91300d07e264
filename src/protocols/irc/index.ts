/** The IRC front-end's public API: what the composition root (src/server.ts) needs. */
export { serveIrc, ircRefusal } from './connection.js';
