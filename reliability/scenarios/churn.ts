/**
 * 4. Connect / register / join / quit, 100,000 times (10,000 with --quick), over the four
 * chat protocols in turn, with a few dozen cycles in flight at once. What the server
 * keeps per person must go when the person goes: after the run, and quiet time, and a
 * full garbage collection, the heap, RSS and descriptors must be back near where they
 * were after a warm-up, and the server must count nobody online.
 *
 * The collection is forced from outside: the server runs with
 * --heapsnapshot-signal=SIGUSR2, and V8 collects all garbage before it writes a heap
 * snapshot, so the heap figure read from /metrics just after is the live heap.
 */
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { FramedConn, TextConn, WsConn } from '../lib/clients.js';
import type { Context, Scenario } from '../lib/scenario.js';
import { Server } from '../lib/server.js';
import { mib, percentile, sleep } from '../lib/stats.js';

type Proto = 'line' | 'irc' | 'framed' | 'ws';
const PROTOS: Proto[] = ['line', 'irc', 'framed', 'ws'];
const ROOMS = 20;

async function cycle(server: Server, proto: Proto, i: number): Promise<void> {
  const name = `ch${i}`;
  const room = `#churn${i % ROOMS}`;
  const t = 10_000;
  if (proto === 'line' || proto === 'irc') {
    const c = await TextConn.connect(server.port(proto), proto === 'irc', { timeoutMs: t });
    try {
      if (proto === 'line') {
        await c.waitLine(/Choose a name: $/, t);
        c.send(name);
        await c.waitLine(/^\* Welcome, /, t);
        c.send(`/join ${room}`);
        await c.waitLine(/^\* You joined/, t);
        c.send('/quit churn');
      } else {
        c.send(`NICK ${name}`);
        c.send(`USER ${name} 0 * :churn`);
        await c.waitLine(/ 001 /, t);
        c.send(`JOIN ${room}`);
        await c.waitLine(/ 366 /, t);
        c.send('QUIT :churn');
      }
      await Promise.race([
        c.closed,
        sleep(t).then(() => Promise.reject(new Error('not closed after quit'))),
      ]);
    } finally {
      c.close();
    }
    return;
  }
  const c =
    proto === 'framed'
      ? await FramedConn.connect(server.port('framed'), { timeoutMs: t })
      : await WsConn.open(server.port('http'), { timeoutMs: t });
  try {
    await c.hello(name, t);
    const j = await c.request({ type: 'join', room }, t);
    if (j.type !== 'joined') throw new Error(`join: ${JSON.stringify(j).slice(0, 100)}`);
    c.send({ type: 'quit', reason: 'churn' });
    await Promise.race([
      c.closed,
      sleep(t).then(() => Promise.reject(new Error('not closed after quit'))),
    ]);
  } finally {
    c.close();
  }
}

interface Sample {
  cycles: number;
  heapUsed: number;
  rss: number;
  fds: number;
  online: number;
  rooms: number;
  forcedGc: boolean;
}

/** Forces a full GC in the server (a heap snapshot), then reads the figures. */
async function sample(server: Server, cycles: number, forceGc: boolean): Promise<Sample> {
  if (forceGc) {
    const before = new Set(readdirSync(server.dataDir));
    server.child.kill('SIGUSR2');
    const end = Date.now() + 60_000;
    let file: string | undefined;
    let size = -1;
    while (Date.now() < end) {
      await sleep(250);
      file ??= readdirSync(server.dataDir).find(
        (f) => f.endsWith('.heapsnapshot') && !before.has(f),
      );
      if (!file) continue;
      const now = statSync(join(server.dataDir, file)).size;
      // Written once /metrics answers again (the snapshot blocks the loop) and it stopped growing.
      if (now === size && now > 0 && (await server.healthy(5000))) break;
      size = now;
    }
    if (file) unlinkSync(join(server.dataDir, file));
  }
  const m = await server.metrics(10_000);
  return {
    cycles,
    heapUsed: m.get('nodejs_heap_size_used_bytes') ?? NaN,
    rss: server.rssBytes(),
    fds: server.fds(),
    online: m.get('plugboard_users_online') ?? NaN,
    rooms: m.get('plugboard_rooms') ?? NaN,
    forcedGc: forceGc,
  };
}

const show = (s: Sample): string =>
  `after ${s.cycles}: heap ${mib(s.heapUsed)} MiB, rss ${mib(s.rss)} MiB, fds ${s.fds}, online ${s.online}, rooms ${s.rooms}${s.forcedGc ? ' (after full GC)' : ''}`;

export const churn: Scenario = {
  id: 'churn',
  title: 'connect/register/join/quit cycles: heap, RSS and descriptors back to baseline',
  suite: 'soak',
  boundMs: (quick) => (quick ? 240_000 : 1_080_000),
  async run(ctx: Context) {
    const total = ctx.quick ? 10_000 : 100_000;
    const warmup = 2_000;
    const concurrency = 48;
    const server = await Server.start({
      nodeFlags: ['--heapsnapshot-signal=SIGUSR2'],
      logLevel: 'warn',
    });
    let done = 0;
    const errors = new Map<string, number>();
    const cycleMs: number[] = [];
    const run = async (from: number, to: number): Promise<void> => {
      let next = from;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < to && !ctx.expired() && server.alive()) {
            const i = next++;
            const t0 = Date.now();
            try {
              await cycle(server, PROTOS[i % PROTOS.length] as Proto, i);
              if (i % 10 === 0) cycleMs.push(Date.now() - t0);
            } catch (err) {
              const key = `${PROTOS[i % 4]}: ${(err as Error).message.replace(/\d+/g, 'N').slice(0, 80)}`;
              errors.set(key, (errors.get(key) ?? 0) + 1);
            }
            done++;
          }
        }),
      );
    };

    await run(0, warmup);
    await sleep(5000);
    const base = await sample(server, done, true);
    ctx.log(`baseline ${show(base)}`);
    const series: Sample[] = [base];
    const t0 = Date.now();
    const step = total / 10;
    for (let from = warmup; from < warmup + total && !ctx.expired(); from += step) {
      await run(from, Math.min(from + step, warmup + total));
      const s = await sample(server, done - warmup, false);
      series.push(s);
      ctx.log(show(s));
    }
    const elapsed = (Date.now() - t0) / 1000;
    const measured = done - warmup;
    await sleep(10_000); // quiet time: timers, the store's queue, V8's memory reducer
    const end = await sample(server, measured, true);
    ctx.log(`end ${show(end)}`);
    const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);

    ctx.figure('cycles', measured);
    ctx.figure('cyclesPerSecond', Math.round(measured / elapsed));
    ctx.figure('errors', errorCount);
    ctx.figure('heapBaseMiB', mib(base.heapUsed));
    ctx.figure('heapEndMiB', mib(end.heapUsed));
    ctx.figure('rssBaseMiB', mib(base.rss));
    ctx.figure('rssEndMiB', mib(end.rss));
    ctx.figure('fdsBase', base.fds);
    ctx.figure('fdsEnd', end.fds);
    ctx.figure('cycleP50Ms', percentile(cycleMs, 0.5));
    ctx.figure('cycleP99Ms', percentile(cycleMs, 0.99));
    ctx.figure('errorKinds', Object.fromEntries(errors));
    ctx.figure(
      'series',
      series.map((s) => ({
        cycles: s.cycles,
        heapMiB: mib(s.heapUsed),
        rssMiB: mib(s.rss),
        fds: s.fds,
        online: s.online,
      })),
    );

    const heapSlack = Math.max(2 * 1048576, base.heapUsed * 0.1);
    ctx.check('server alive', server.alive());
    ctx.check(
      `all ${total} cycles ran`,
      measured >= total,
      `${measured} in ${elapsed.toFixed(0)} s`,
    );
    ctx.check(
      'no cycle failed',
      errorCount === 0,
      [...errors]
        .slice(0, 5)
        .map(([k, v]) => `${v}x ${k}`)
        .join('; '),
    );
    ctx.check(
      'heap after full GC back to baseline (+max(2 MiB, 10%))',
      end.heapUsed <= base.heapUsed + heapSlack,
      `${mib(base.heapUsed)} -> ${mib(end.heapUsed)} MiB`,
    );
    ctx.check(
      'RSS within 64 MiB of baseline',
      end.rss <= base.rss + 64 * 1048576,
      `${mib(base.rss)} -> ${mib(end.rss)} MiB`,
    );
    ctx.check('descriptors back to baseline', end.fds <= base.fds, `${base.fds} -> ${end.fds}`);
    ctx.check('nobody left online', end.online === 0, `plugboard_users_online ${end.online}`);
    ctx.check('rooms back to baseline', end.rooms <= base.rooms, `${base.rooms} -> ${end.rooms}`);
    await server.stop();
  },
};
