/**
 * 3. Descriptors under a lowered limit, in two phases.
 *
 * The reserve: a server started under `prlimit --nofile=1024:1024` derives its chat
 * connection limit from it (--max-connections auto: 1,024 less 64 + 64 + 256 for the HTTP
 * listener = 640), so more hogs than that on a chat listener are refused with a reason
 * rather than shed, and /healthz on a fresh connection keeps answering.
 *
 * Real exhaustion: the running server's open-file limit is lowered with
 * `prlimit --pid PID --nofile=N:N` to a few dozen above what it holds (its connection
 * limit, derived at start, no longer protects it), then hogs connect on one listener
 * until no descriptor is left (more hogs than the headroom). While it is exhausted: do
 * bystanders keep chatting, does /healthz answer on a keep-alive connection opened
 * before, does the server log it and count it? (A fresh connection cannot be served
 * then: libuv accepts and closes it, as docs/operations.md says; recorded, not judged.)
 * After the hogs leave: does it accept and register new people on every protocol again,
 * and are its descriptors back? Repeated on each listener in turn.
 */
import http from 'node:http';
import { Bystanders } from '../lib/bystanders.js';
import { FramedConn, ircUser, lineUser, RawConn, WsConn } from '../lib/clients.js';
import type { Context, Scenario } from '../lib/scenario.js';
import { httpGet, Server } from '../lib/server.js';
import { sleep } from '../lib/stats.js';
import { handshake, OP, wsFrame } from '../lib/wsframe.js';
import { encodeFrame } from '../../src/protocols/framed/codec.js';
import { handlerFailures } from './common.js';

type HogListener = 'line' | 'irc' | 'framed' | 'ws' | 'http';
const HEADROOM = 30;

function hogBytes(l: HogListener, name: string, port: number): Buffer[] {
  switch (l) {
    case 'line':
      return [Buffer.from(`${name}\n`)];
    case 'irc':
      return [Buffer.from(`NICK ${name}\r\nUSER ${name} 0 * :${name}\r\n`)];
    case 'framed':
      return [encodeFrame(JSON.stringify({ type: 'hello', name }))];
    case 'ws':
      return [
        Buffer.from(handshake(port)),
        wsFrame(OP.text, Buffer.from(JSON.stringify({ type: 'hello', name }))),
      ];
    case 'http':
      return [Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')];
  }
}
const SERVED: Record<HogListener, string> = {
  line: 'Welcome, ',
  irc: ' 001 ',
  framed: '"welcome"',
  ws: '"welcome"',
  http: '"ok"',
};

/** Chat connections the server counts (/metrics plugboard_connections, summed). */
async function chatConnections(server: Server): Promise<number> {
  const m = await server.metrics().catch(() => new Map<string, number>());
  return [...m.entries()]
    .filter(([k]) => k.startsWith('plugboard_connections{'))
    .reduce((n, [, v]) => n + v, 0);
}

/** Can a new person connect and register on every protocol? Names what failed. */
async function everyoneCanJoin(server: Server, tag: string, timeoutMs = 3000): Promise<string[]> {
  const failed: string[] = [];
  const o = { timeoutMs };
  const tries: [string, () => Promise<{ close(): void }>][] = [
    ['line', () => lineUser(server.port('line'), `l${tag}`, o)],
    ['irc', () => ircUser(server.port('irc'), `i${tag}`, o)],
    [
      'framed',
      async () => {
        const c = await FramedConn.connect(server.port('framed'), o);
        await c.hello(`f${tag}`, timeoutMs);
        return c;
      },
    ],
    [
      'ws',
      async () => {
        const c = await WsConn.open(server.port('http'), o);
        await c.hello(`w${tag}`, timeoutMs);
        return c;
      },
    ],
  ];
  for (const [name, attempt] of tries) {
    try {
      (await attempt()).close();
    } catch (err) {
      failed.push(`${name} (${(err as Error).message})`);
    }
  }
  return failed;
}

const RESERVE_LIMIT = 1024;
/** 1,024 less the reserve (64 + 64 lingering refusals + 256 HTTP connections). */
const DERIVED_MAX = 640;

/** Phase one: started under the limit, the derived connection limit keeps a reserve. */
async function reserveHolds(ctx: Context, listeners: HogListener[]): Promise<void> {
  const server = await Server.start({ fileLimit: RESERVE_LIMIT });
  try {
    const bystanders = await Bystanders.join(server, 'fr');
    bystanders.start(800);
    const exhaustions = async (): Promise<number> =>
      (await server.metrics()).get('plugboard_fd_exhaustions_total') ?? NaN;
    const exhaustionsBefore = await exhaustions();
    const fdBase = server.fds();
    const rounds: Record<string, unknown>[] = [];
    for (const [round, l] of listeners.entries()) {
      if (ctx.expired()) break;
      const port = server.port(l === 'ws' ? 'http' : l);
      const hogs: RawConn[] = [];
      const count = DERIVED_MAX + 60;
      let connectErrors = 0;
      for (let i = 0; i < count; i++) {
        try {
          const c = await RawConn.connect(port, { timeoutMs: 2000 });
          hogs.push(c);
          for (const b of hogBytes(l, `res${round}x${i}`, port)) await c.write(b);
        } catch {
          connectErrors++;
        }
      }
      // Every hog answered, one way or the other (bounded: a starved server is slow).
      const answered = (h: RawConn): boolean =>
        h.head.includes(SERVED[l]) || h.head.toString('latin1').includes('server full');
      const answerBy = Date.now() + 30_000;
      while (Date.now() < answerBy && !hogs.every((h) => answered(h) || h.isClosed))
        await sleep(250);
      await sleep(500);
      const served = hogs.filter((h) => !h.isClosed && h.head.includes(SERVED[l])).length;
      const toldFull = hogs.filter((h) => h.head.toString('latin1').includes('server full')).length;
      const fdsPeak = server.fds();
      const freshHealthz = await server.get('/healthz', 5000).then(
        (r) => r.status,
        (e: Error) => e.message,
      );
      const admin = await server.admin('stats', 2000).then(
        () => 'answered',
        (e: Error) => e.message,
      );
      for (const h of hogs) h.destroy();
      // Until the server has seen them all go (only the 4 bystanders left), bounded.
      const goneBy = Date.now() + 30_000;
      while (Date.now() < goneBy && (await chatConnections(server)) > 4) await sleep(250);
      const joinFailures = await everyoneCanJoin(server, `q${round}`, 10_000);
      rounds.push({
        listener: l,
        hogs: count,
        connectErrors,
        served,
        toldFull,
        fdsPeak,
        freshHealthz,
        admin,
        joinFailures,
      });
      ctx.log(`reserve: ${JSON.stringify(rounds.at(-1))}`);
    }
    const exhaustionsAfter = await exhaustions();
    const report = await bystanders.stop(5000);
    bystanders.close();
    await sleep(1000);
    const fdsAfter = server.fds();
    ctx.figure('reserve', {
      limit: RESERVE_LIMIT,
      derivedMax: DERIVED_MAX,
      fdBase,
      fdsAfter,
      rounds,
    });
    const r = rounds as {
      listener: string;
      served: number;
      toldFull: number;
      freshHealthz: unknown;
      admin: string;
      joinFailures: string[];
    }[];
    ctx.check(
      `started under ${RESERVE_LIMIT} descriptors: chat connections stop at the derived limit, the rest are told "server full"`,
      r.length > 0 &&
        r.every((x) => x.served <= DERIVED_MAX && x.served >= DERIVED_MAX - 10 && x.toldFull > 0),
      r.map((x) => `${x.listener}: ${x.served} served, ${x.toldFull} told full`).join('; '),
    );
    ctx.check(
      'started under the limit: /healthz on a fresh connection and the admin socket answer with the chat full',
      r.every((x) => x.freshHealthz === 200 && x.admin === 'answered'),
      r.map((x) => `${x.listener}: healthz ${String(x.freshHealthz)}, admin ${x.admin}`).join('; '),
    );
    ctx.check(
      'started under the limit: descriptors never ran out',
      exhaustionsAfter === exhaustionsBefore,
      `plugboard_fd_exhaustions_total ${exhaustionsBefore} -> ${exhaustionsAfter}`,
    );
    ctx.check(
      'started under the limit: bystanders undisturbed, everyone can join after, descriptors back',
      report.missingDeliveries === 0 &&
        report.disconnected.length === 0 &&
        r.every((x) => x.joinFailures.length === 0) &&
        fdsAfter <= fdBase,
      `${report.sent} messages, ${report.missingDeliveries} missing; join failures: ${r
        .flatMap((x) => x.joinFailures)
        .join(', ')}; descriptors ${fdBase} -> ${fdsAfter}`,
    );
  } finally {
    await server.stop();
  }
}

export const fdExhaustion: Scenario = {
  id: 'fd-exhaustion',
  title: 'descriptor exhaustion under a lowered limit (prlimit --nofile)',
  suite: 'chaos',
  boundMs: (quick) => (quick ? 150_000 : 420_000),
  async run(ctx: Context) {
    const listeners: HogListener[] = ctx.quick
      ? ['line', 'ws']
      : ['line', 'irc', 'framed', 'ws', 'http', 'line', 'irc', 'framed', 'ws', 'http'];
    await reserveHolds(ctx, ctx.quick ? ['line'] : ['line', 'irc', 'framed', 'ws']);
    const server = await Server.start();
    const bystanders = await Bystanders.join(server, 'fd');
    bystanders.start(800);
    // A keep-alive connection opened before, polled every second so it stays open.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const keepAlive = { ok: 0, failed: 0, okWhileExhausted: 0, failedWhileExhausted: 0 };
    let exhausted = false;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const ok = await httpGet(server.port('http'), '/healthz', 2000, agent).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) keepAlive.ok++;
        else keepAlive.failed++;
        if (exhausted) {
          if (ok) keepAlive.okWhileExhausted++;
          else keepAlive.failedWhileExhausted++;
        }
        await sleep(1000);
      }
    })();
    await sleep(1500);
    const fdBase = server.fds();
    const limit = fdBase + HEADROOM;
    const original = server.fileLimit();
    ctx.figure('fdsBefore', fdBase);
    ctx.figure('limit', limit);
    // Soft and hard both: the server cannot raise its own limit back.
    server.setFileLimit(limit);
    const cycles: Record<string, unknown>[] = [];
    const logBefore = server.log().length;
    const metricsBefore = await server.metrics();

    for (const [round, l] of listeners.entries()) {
      if (ctx.expired()) break;
      const port = server.port(l === 'ws' ? 'http' : l);
      const hogs: RawConn[] = [];
      const count = HEADROOM + 40;
      for (let i = 0; i < count; i++) {
        try {
          const c = await RawConn.connect(port, { timeoutMs: 2000 });
          hogs.push(c);
          for (const b of hogBytes(l, `hog${round}x${i}`, port)) await c.write(b);
        } catch {
          // the kernel itself refused: counted below as not served
        }
      }
      exhausted = true;
      // Until the server has taken every descriptor it can (bounded: a starved server
      // accepts slowly), then a little more.
      const fullBy = Date.now() + 15_000;
      while (Date.now() < fullBy && server.fds() < limit - 1) await sleep(250);
      await sleep(2500);
      const served = hogs.filter((h) => !h.isClosed && h.head.includes(SERVED[l])).length;
      const closedAtOnce = hogs.filter((h) => h.isClosed).length;
      const fdsAtLimit = server.fds();
      const freshHealth = await server.get('/healthz', 2000).then(
        (r) => r.status,
        (e: Error) => e.message,
      );
      const admin = await server.admin('stats', 2000).then(
        () => 'answered',
        (e: Error) => e.message,
      );
      await sleep(2000); // two more keep-alive polls while exhausted
      exhausted = false;
      for (const h of hogs) h.destroy();
      await sleep(1500);
      const joinFailures = await everyoneCanJoin(server, `r${round}`);
      await sleep(500);
      const fdsAfter = server.fds();
      const cycle = {
        listener: l,
        hogs: count,
        served,
        closedAtOnce,
        pending: hogs.length - served - closedAtOnce,
        fdsAtLimit,
        freshHealthz: freshHealth,
        adminSocket: admin,
        joinFailuresAfter: joinFailures,
        fdsAfter,
      };
      cycles.push(cycle);
      ctx.log(JSON.stringify(cycle));
    }
    const metricsAfter = await server.metrics();
    polling = false;
    await poll;
    agent.destroy();
    const report = await bystanders.stop(5000);
    bystanders.close();
    await sleep(1000);
    const logDuring = server.log().slice(logBefore);
    const emfileLines = logDuring
      .split('\n')
      .filter((x) => /EMFILE|ENFILE|descriptor|file limit|too many open/i.test(x));
    const counted = [...metricsAfter.entries()]
      .filter(
        ([k, v]) =>
          k.startsWith('plugboard_') && k.includes('_total') && v > (metricsBefore.get(k) ?? 0),
      )
      .map(([k, v]) => `${k} +${v - (metricsBefore.get(k) ?? 0)}`);
    const fdsEnd = server.fds();
    // Raising a hard limit again needs privilege (root has it); a clean exit needs none.
    try {
      server.setFileLimit(original.soft, original.hard);
    } catch {
      ctx.log(
        'could not raise the open-file limit again (needs CAP_SYS_RESOURCE); it ends with the server',
      );
    }
    const failures = handlerFailures(server);
    const exit = await server.stop();

    ctx.figure('cycles', cycles);
    ctx.figure('keepAliveHealthz', keepAlive);
    ctx.figure('logLinesAboutDescriptors', emfileLines.length);
    ctx.figure(
      'logSample',
      emfileLines.slice(0, 3).map((x) => x.slice(0, 300)),
    );
    ctx.figure('countersThatMoved', counted);
    ctx.figure('bystanders', report);
    ctx.figure('fdsEnd', fdsEnd);
    ctx.figure('exit', exit);

    const c = cycles as {
      served: number;
      fdsAtLimit: number;
      freshHealthz: unknown;
      joinFailuresAfter: string[];
      fdsAfter: number;
      listener: string;
    }[];
    ctx.check(
      'the limit was reached in every cycle',
      c.length > 0 && c.every((x) => x.fdsAtLimit >= limit - 1),
      c.map((x) => `${x.listener}:${x.fdsAtLimit}/${limit}`).join(' '),
    );
    ctx.check('server survived', exit.signal === null);
    ctx.check(
      'bystanders kept chatting (all delivered, none dropped)',
      report.missingDeliveries === 0 && report.disconnected.length === 0 && report.sent > 0,
      `${report.sent} messages, ${report.missingDeliveries} missing, disconnected: ${report.disconnected.join(',')}`,
    );
    ctx.check(
      '/healthz on a keep-alive connection answered while exhausted',
      keepAlive.failedWhileExhausted === 0 && keepAlive.okWhileExhausted > 0,
      JSON.stringify(keepAlive),
    );
    // Documented (docs/operations.md, "Running out of descriptors"): with no descriptor
    // left libuv accepts and closes a fresh connection; the reserve (phase one) is what
    // keeps /healthz answering. Recorded here, not judged.
    ctx.figure(
      'freshHealthzWhileExhausted',
      c.map((x) => `${x.listener}: ${String(x.freshHealthz)}`),
    );
    ctx.check(
      'exhaustion logged',
      emfileLines.length > 0,
      `${emfileLines.length} log lines mention EMFILE/descriptors`,
    );
    ctx.check(
      'exhaustion counted in /metrics',
      counted.some((k) => /fd_exhaustions|emfile|descriptor|accept_?(error|fail)|refused/.test(k)),
      `moved: ${counted.join(', ')}`,
    );
    ctx.check(
      'accepting and registering again on every protocol once descriptors are free',
      c.every((x) => x.joinFailuresAfter.length === 0),
      c
        .filter((x) => x.joinFailuresAfter.length)
        .map((x) => `${x.listener}: ${x.joinFailuresAfter.join(', ')}`)
        .join('; '),
    );
    ctx.check(
      'descriptors back after each cycle',
      c.every((x) => x.fdsAfter <= fdBase + 2),
      c.map((x) => x.fdsAfter).join(' ') + ` (before ${fdBase})`,
    );
    ctx.check('no handler failure logged', failures.length === 0, failures.slice(0, 3).join(' | '));
    ctx.check('clean exit 0 after', exit.code === 0, JSON.stringify(exit));
  },
};
