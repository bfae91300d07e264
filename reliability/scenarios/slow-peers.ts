/**
 * 2. Slowloris, connections that never register, and peers that never close.
 *
 * Every peer here keeps its side of the connection open for good (allowHalfOpen: it never
 * answers the server's FIN, never closes); most never read either. The server has to
 * close each one itself, and then let go of its descriptor: a server that only end()s a
 * socket waits for the peer's FIN forever. Which connections the server still holds is
 * read from outside, per connection, with `ss -tanp` (the client's port names it), every
 * second from the first peer on (so a peer let go while the others are still being set up
 * is timed when it goes, not when the setup ends), alongside `ls /proc/PID/fd | wc -l`.
 *
 * Groups, each with N connections per protocol:
 * - silent: connects and sends nothing (line, IRC, framed, WebSocket after the handshake,
 *   HTTP with no request, HTTP keep-alive idle after one request);
 * - slowloris: one byte every 2 s, never finishing a name, a frame or a header block;
 * - kicked: registers, stops reading, is kicked from the admin socket;
 * - quit: registers, says quit, stops reading;
 * - evicted: registers in a room, stops reading, the room is flooded past its send queue.
 *
 * Verdict: every connection released within its group's bound, the descriptor count back
 * to where it was, bystanders undisturbed.
 */
import { Bystanders } from '../lib/bystanders.js';
import { FramedConn, RawConn } from '../lib/clients.js';
import type { Context, Scenario } from '../lib/scenario.js';
import { Server } from '../lib/server.js';
import { heldSockets } from '../lib/sockets.js';
import { percentile, sleep } from '../lib/stats.js';
import { handshake, OP, wsFrame } from '../lib/wsframe.js';
import { encodeFrame } from '../../src/protocols/framed/codec.js';

type Proto = 'line' | 'irc' | 'framed' | 'ws' | 'http' | 'http-idle';

interface Peer {
  group: string;
  proto: Proto;
  conn: RawConn;
  clientPort: number;
  name: string;
  /** When the server's trigger happened (connect, kick, quit, flood). */
  triggeredAt: number;
  releasedAt?: number;
  /** When it connected, and whether the server was ever seen holding it. */
  openedAt: number;
  seenHeld: boolean;
  /** The TCP state the server's side was last seen in (ss), for a report. */
  lastState?: string;
  /** Slowloris bytes sent. */
  trickled: number;
}

const json = (o: object): Buffer => encodeFrame(JSON.stringify(o));
const wsJson = (o: object): Buffer => wsFrame(OP.text, Buffer.from(JSON.stringify(o)));

/** The bytes that register `name` (and join `room`) on each protocol. */
function registration(proto: Proto, name: string, room?: string): Buffer[] {
  switch (proto) {
    case 'line':
      return [Buffer.from(`${name}\n${room ? `/join ${room}\n` : ''}`)];
    case 'irc':
      return [
        Buffer.from(
          `NICK ${name}\r\nUSER ${name} 0 * :${name}\r\n${room ? `JOIN ${room}\r\n` : ''}`,
        ),
      ];
    case 'framed':
      return [json({ type: 'hello', name }), ...(room ? [json({ type: 'join', room })] : [])];
    case 'ws':
      return [wsJson({ type: 'hello', name }), ...(room ? [wsJson({ type: 'join', room })] : [])];
    default:
      return [];
  }
}

function quitBytes(proto: Proto): Buffer {
  switch (proto) {
    case 'line':
      return Buffer.from('/quit leaving but never closing\n');
    case 'irc':
      return Buffer.from('QUIT :leaving but never closing\r\n');
    case 'framed':
      return json({ type: 'quit', reason: 'leaving but never closing' });
    default:
      return wsJson({ type: 'quit', reason: 'leaving but never closing' });
  }
}

export const slowPeers: Scenario = {
  id: 'slow-peers',
  title: 'slowloris, never-registering and never-closing peers: are descriptors freed?',
  suite: 'soak',
  boundMs: (quick) => (quick ? 240_000 : 420_000),
  async run(ctx: Context) {
    const n = ctx.quick ? 10 : 40;
    const regTimeout = ctx.quick ? 10 : 60; // the default is 60 s
    const server = await Server.start({
      args: ['--registration-timeout', String(regTimeout), '--flood-rate', '0'],
    });
    const listenerPorts = ['line', 'irc', 'framed', 'http'].map((l) => server.port(l));
    const portOf = (p: Proto): number =>
      server.port(p === 'ws' || p === 'http' || p === 'http-idle' ? 'http' : p);
    const bystanders = await Bystanders.join(server, 'sp');
    bystanders.start(1000);
    await sleep(300);
    const fdBase = server.fds();
    ctx.figure('fdsBefore', fdBase);
    const peers: Peer[] = [];
    let seq = 0;
    // Which peers the server still holds, every second, from now on. A peer is released
    // when the server, once seen holding it, no longer does (or, never seen, 5 s after it
    // connected: let go between two looks).
    const look = (): void => {
      const held = heldSockets(server.pid, listenerPorts);
      const now = Date.now();
      for (const p of peers) {
        if (p.releasedAt) continue;
        const h = held.get(p.clientPort);
        if (h) {
          p.seenHeld = true;
          p.lastState = h.state;
        } else if (p.seenHeld || now - p.openedAt > 5000) p.releasedAt = now;
      }
    };
    const looker = setInterval(look, 1000);

    const open = async (group: string, proto: Proto, readFirst: boolean): Promise<Peer> => {
      const conn = await RawConn.connect(portOf(proto), { allowHalfOpen: true });
      if (!readFirst) conn.socket.pause();
      const peer: Peer = {
        group,
        proto,
        conn,
        clientPort: conn.socket.localPort as number,
        name: `${group.slice(0, 4)}${proto.replace('-', '').slice(0, 4)}${seq++}`,
        triggeredAt: Date.now(),
        openedAt: Date.now(),
        seenHeld: false,
        trickled: 0,
      };
      peers.push(peer);
      if (proto === 'ws') {
        await conn.write(handshake(portOf(proto)));
        const end = Date.now() + 3000;
        while (!conn.head.includes('\r\n\r\n') && Date.now() < end) await sleep(10);
      }
      if (proto === 'http-idle') {
        await conn.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
        const end = Date.now() + 3000;
        while (!conn.head.includes('"ok"') && Date.now() < end) await sleep(10);
      }
      peer.triggeredAt = Date.now();
      return peer;
    };

    const chat: Proto[] = ['line', 'irc', 'framed', 'ws'];
    // Silent: timers on the server must close these.
    for (const proto of [...chat, 'http', 'http-idle'] as Proto[]) {
      for (let i = 0; i < n; i++)
        await open('silent', proto, proto === 'ws' || proto === 'http-idle');
    }
    // Slowloris: a byte every 2 s, never completing anything.
    const slow: Peer[] = [];
    for (const proto of [...chat, 'http'] as Proto[]) {
      for (let i = 0; i < n; i++) {
        const p = await open('slowloris', proto, proto === 'ws');
        slow.push(p);
        const start: Record<string, Buffer> = {
          line: Buffer.from('s'),
          irc: Buffer.from('NICK s'),
          framed: Buffer.from([0, 0, 0x10, 0]),
          ws: wsFrame(OP.text, Buffer.alloc(0), { fin: false }).subarray(0, 2),
          http: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n'),
        };
        await p.conn.write(start[proto] as Buffer);
      }
    }
    const trickle = setInterval(() => {
      for (const p of slow) {
        if (p.conn.socket.destroyed || p.releasedAt) continue;
        p.trickled++;
        const byte = p.proto === 'http' ? (p.trickled % 2 ? 'X' : ':') : 's';
        p.conn.socket.write(byte, () => {});
      }
    }, 2000);

    // Registered peers for the kicked, quit and evicted groups.
    const registered: Peer[] = [];
    for (const group of ['kicked', 'quit', 'evicted']) {
      for (const proto of chat) {
        for (let i = 0; i < n; i++) {
          const p = await open(group, proto, true);
          for (const b of registration(proto, p.name, group === 'evicted' ? '#flood' : undefined)) {
            await p.conn.write(b);
          }
          registered.push(p);
        }
      }
    }
    await sleep(1500);
    const who = new Set((await server.admin('who')).map((l) => l.split(' ')[0]));
    const notRegistered = registered.filter((p) => !who.has(p.name)).map((p) => p.name);
    ctx.check(
      'every kicked/quit/evicted peer registered',
      notRegistered.length === 0,
      notRegistered.slice(0, 10).join(' '),
    );
    for (const p of registered) p.conn.socket.pause(); // from now on, they never read

    // The triggers.
    for (const p of registered.filter((x) => x.group === 'kicked')) {
      await server.admin(`kick ${p.name} kicked but never closing`);
      p.triggeredAt = Date.now();
    }
    for (const p of registered.filter((x) => x.group === 'quit')) {
      await p.conn.write(quitBytes(p.proto));
      p.triggeredAt = Date.now();
    }
    const flooder = await FramedConn.connect(server.port('framed'));
    await flooder.hello('flooder');
    await flooder.request({ type: 'join', room: '#flood' });
    const floodAt = Date.now();
    for (const p of registered.filter((x) => x.group === 'evicted')) p.triggeredAt = floodAt;
    const text = 'f'.repeat(3900);
    let floodSent = 0;
    for (let batch = 0; batch < 30 && !ctx.expired(); batch++) {
      for (let i = 0; i < 99; i++) flooder.send({ type: 'say', room: '#flood', text });
      await flooder.request({ type: 'say', room: '#flood', text }, 20_000);
      floodSent += 100;
    }
    ctx.figure('floodBytesPerPeer', floodSent * 3900);

    // Watch the server let go, connection by connection.
    const bounds: Record<string, number> = {
      silent: regTimeout * 1000 + 40_000, // the sweep, plus WebSocket's 30 s close handshake
      slowloris: regTimeout * 1000 + 40_000,
      kicked: 40_000,
      quit: 40_000,
      evicted: 40_000,
    };
    // An HTTP head must be complete within --http-headers-timeout (10 s by default; the
    // server checks every second); an idle keep-alive connection goes after 5 s.
    const httpBound = 30_000;
    const boundOf = (p: Peer): number =>
      p.proto === 'http'
        ? httpBound
        : p.proto === 'http-idle'
          ? 15_000
          : (bounds[p.group] as number);
    const fdSeries: [number, number][] = [];
    const watchEnd =
      Date.now() +
      Math.min(Math.max(...Object.values(bounds), httpBound) + 10_000, ctx.remainingMs() - 20_000);
    while (Date.now() < watchEnd) {
      fdSeries.push([Date.now() - floodAt, server.fds()]);
      if (peers.every((p) => p.releasedAt)) break;
      await sleep(1000);
    }
    clearInterval(looker);
    look();
    clearInterval(trickle);
    const report = await bystanders.stop(5000);
    flooder.close();
    bystanders.close();
    for (const p of peers) p.conn.destroy();
    await sleep(2000);
    const fdsAfter = server.fds();

    const groups = new Map<string, Peer[]>();
    for (const p of peers) {
      const key = `${p.group}/${p.proto}`;
      groups.set(key, [...(groups.get(key) ?? []), p]);
    }
    const table: Record<string, unknown> = {};
    for (const [key, ps] of groups) {
      const times = ps
        .filter((p) => p.releasedAt)
        .map((p) => (p.releasedAt as number) - p.triggeredAt);
      const held = ps.filter((p) => !p.releasedAt);
      const late = ps.filter(
        (p) => p.releasedAt && (p.releasedAt as number) - p.triggeredAt > boundOf(p),
      );
      const bound = boundOf(ps[0] as Peer);
      table[key] = {
        peers: ps.length,
        released: times.length,
        stillHeld: held.length,
        releaseP50s: percentile(times, 0.5) / 1000,
        releaseMaxS: times.length ? Math.max(...times) / 1000 : null,
        boundS: bound / 1000,
      };
      ctx.check(
        `${key}: every descriptor released within ${bound / 1000} s`,
        held.length === 0 && late.length === 0,
        `${times.length}/${ps.length} released, max ${times.length ? Math.max(...times) / 1000 : '-'} s` +
          (late.length
            ? `; late: ${late
                .slice(0, 5)
                .map(
                  (p) =>
                    `port ${p.clientPort} after ${((p.releasedAt as number) - p.triggeredAt) / 1000} s (opened ${(p.triggeredAt - p.openedAt) / 1000} s before its trigger)`,
                )
                .join(', ')}`
            : '') +
          (held.length
            ? `; still held: ${held.length} (${held
                .slice(0, 3)
                .map((p) => `client port ${p.clientPort}, ${p.lastState ?? 'never seen'}`)
                .join('; ')})`
            : ''),
      );
    }
    ctx.figure('groups', table);
    ctx.figure('fdsAfter', fdsAfter);
    ctx.figure(
      'fdSeries',
      fdSeries.filter((_, i) => i % 5 === 0),
    );
    ctx.figure('bystanders', report);
    ctx.check('server alive', server.alive());
    ctx.check(
      'descriptors back to before the peers came',
      fdsAfter <= fdBase - 4,
      `before ${fdBase} (with 4 bystanders), after ${fdsAfter}`,
    );
    ctx.check(
      'bystanders undisturbed',
      report.missingDeliveries === 0 && report.disconnected.length === 0 && report.sent > 0,
      `${report.sent} messages, ${report.missingDeliveries} missing, disconnected: ${report.disconnected.join(',')}`,
    );
    await server.stop();
  },
};
