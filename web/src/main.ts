/** Entry point: the page's WebSocket lives on the same host and port as the page itself. */
import { App } from './app.js';
import { fitTimeColumn } from './ui/log.js';

const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
fitTimeColumn();
const app = new App(`${scheme}//${location.host}/ws`);
app.start();
// The tests (and curious readers, in the console) can look at the live state.
(window as unknown as { plugboard: App }).plugboard = app;
