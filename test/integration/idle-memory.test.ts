/**
 * What one idle, registered connection keeps on the server's heap, counted from real heap
 * snapshots of a real server process (issue 12: idle memory per connection no worse than
 * before the core was reshaped). Heap snapshots of 5,000 idle clients named what the
 * reshaped core had added per connection: a Map (join marks), a closure and its context
 * (the send-queue overflow handler), a listener array (a second 'close' listener), plain
 * objects (name holds, address proofs) and ropes (session ids). Counting those kinds per
 * connection catches any of them coming back; bytes would depend on the V8 version.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnServer, type ServerProcess } from '../helpers/process.js';

const N = 150;
const OFF = ['--framed-port', '--irc-tls-port', '--line-tls-port', '--framed-tls-port'];

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Heap objects of the kinds that grew per connection, counted. */
interface Kinds {
  closure: number;
  context: number;
  map: number;
  object: number;
  array: number;
  rope: number;
}

function count(file: string): Kinds {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const type = fields.indexOf('type');
  const name = fields.indexOf('name');
  const k: Kinds = { closure: 0, context: 0, map: 0, object: 0, array: 0, rope: 0 };
  for (let i = 0; i < snap.nodes.length; i += width) {
    const t = types[snap.nodes[i + type] as number];
    const n = snap.strings[snap.nodes[i + name] as number];
    if (t === 'closure') k.closure++;
    else if (t === 'concatenated string') k.rope++;
    else if (t === 'object' && n === 'system / Context') k.context++;
    else if (t === 'object' && n === 'Map') k.map++;
    else if (t === 'object' && n === 'Object') k.object++;
    else if (t === 'object' && n === 'Array') k.array++;
  }
  return k;
}

let server: ServerProcess;
let dir: string;
const sockets: net.Socket[] = [];

/** Writes a heap snapshot (the server collects garbage first) and counts it. */
async function snapshot(): Promise<Kinds> {
  const before = new Set(readdirSync(dir));
  server.child.kill('SIGUSR2');
  const deadline = Date.now() + 120_000;
  let size = -1;
  for (;;) {
    if (Date.now() > deadline) throw new Error('no heap snapshot');
    await new Promise((r) => setTimeout(r, 500));
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (file === undefined) continue;
    const now = statSync(join(dir, file)).size;
    if (now > 0 && now === size) {
      // A loaded machine can pause the writer longer than a poll: complete means it parses.
      try {
        return count(join(dir, file));
      } catch (err) {
        if (!(err instanceof SyntaxError)) throw err;
      }
    }
    size = now;
  }
}

/** Opens N connections that register and then stay idle (reading what they are sent). */
async function openIdle(
  port: number,
  prefix: string,
  hello: (nick: string) => string,
  done: string[],
) {
  for (let i = 0; i < N; i++) {
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      let seen = '';
      s.on('data', (d: Buffer) => {
        seen = (seen + d.toString('latin1')).slice(-200);
        if (done.some((m) => seen.includes(m))) {
          s.setTimeout(0);
          resolve();
        }
      });
      s.on('error', reject);
      s.setTimeout(60_000, () => reject(new Error(`${prefix}${i} not registered; saw ${seen}`)));
      s.on('connect', () => s.write(hello(`${prefix}${i}`)));
      sockets.push(s);
    });
  }
}
const line = (nick: string): string => `${nick}\n`;
const irc = (nick: string): string => `NICK ${nick}\r\nUSER ${nick} 0 * :idle ${nick}\r\n`;

function perConnection(after: Kinds, before: Kinds): Kinds {
  const out = { ...after };
  for (const key of Object.keys(out) as (keyof Kinds)[]) {
    out[key] = (after[key] - before[key]) / N;
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plugboard-heap-'));
  server = await spawnServer(
    [
      '--host',
      '127.0.0.1',
      '--line-port',
      '0',
      '--irc-port',
      '0',
      ...OFF.flatMap((f) => [f, '-1']),
      ...['--http-port', '-1', '--udp-port', '-1', '--store', 'memory', '--flood-rate', '0'],
    ],
    // The snapshot goes to the test's own directory, not the working directory.
    { NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}` },
    dir,
  );
}, 60_000);

afterAll(() => {
  for (const s of sockets) s.destroy();
  server?.child.kill('SIGKILL');
});

describe('idle memory per connection', () => {
  test('an idle line or IRC connection keeps no Map, closure, listener array or rope of its own', async () => {
    // A first round of each warms the server up (code compiled on first use, tables
    // made once): only what a second round adds is per connection.
    const linePort = server.ports.line?.port as number;
    const ircPort = server.ports.irc?.port as number;
    await openIdle(linePort, 'a', line, ['* Welcome, ']);
    await openIdle(ircPort, 'b', irc, [' 376 ', ' 422 ']);
    const warm = await snapshot();
    await openIdle(linePort, 'l', line, ['* Welcome, ']);
    const lines = await snapshot();
    await openIdle(ircPort, 'i', irc, [' 376 ', ' 422 ']);
    const ircs = await snapshot();

    // Counted after the fix (integers: every connection alike): 1 closure (the socket's
    // own bound write callback), no context, 3 plain objects, 4 arrays (IRC 5), no Map
    // and no rope. The regression had added to each a Map, a closure, a context, 2 plain
    // objects, an array and 1-2 ropes; the protocols' data and close closures (and their
    // context) went too.
    const bounds = (arrays: number): Kinds => ({
      closure: 1.3,
      context: 0.3,
      map: 0.3,
      object: 3.3,
      array: arrays + 0.3,
      rope: 0.3,
    });
    const judge = (per: Kinds, bound: Kinds) =>
      Object.fromEntries(
        (Object.keys(bound) as (keyof Kinds)[]).map((k) => [
          k,
          per[k] <= bound[k] ? 'ok' : `${per[k].toFixed(2)} > ${bound[k]}`,
        ]),
      );
    const ok = Object.fromEntries(Object.keys(bounds(0)).map((k) => [k, 'ok']));
    const perLine = perConnection(lines, warm);
    const perIrc = perConnection(ircs, lines);
    console.log('per idle connection', { line: perLine, irc: perIrc });
    expect({ line: judge(perLine, bounds(4)), irc: judge(perIrc, bounds(5)) }).toEqual({
      line: ok,
      irc: ok,
    });
  }, 400_000);
});
