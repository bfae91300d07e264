/**
 * 3. Descriptor exhaustion under a lowered limit. The running server's open-file limit is
 * lowered with `prlimit --pid PID --nofile=N:N` to a few dozen above what it holds, then
 * hogs connect on one listener until no descriptor is left (more hogs than the headroom).
 * While it is exhausted: do bystanders keep chatting, does /healthz answer (on a
 * keep-alive connection opened before, and on a fresh one), does the server log it and
 * count it? After the hogs leave: does it accept and register new people on every
 * protocol again, and are its descriptors back? Repeated on each listener in turn.
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

/** Can a new person connect and register on every protocol? Names what failed. */
async function everyoneCanJoin(server: Server, tag: string): Promise<string[]> {
  const failed: string[] = [];
  const o = { timeoutMs: 3000 };
  const tries: [string, () => Promise<{ close(): void }>][] = [
    ['line', () => lineUser(server.port('line'), `l${tag}`, o)],
    ['irc', () => ircUser(server.port('irc'), `i${tag}`, o)],
    [
      'framed',
      async () => {
        const c = await FramedConn.connect(server.port('framed'), o);
        await c.hello(`f${tag}`, 3000);
        return c;
      },
    ],
    [
      'ws',
      async () => {
        const c = await WsConn.open(server.port('http'), o);
        await c.hello(`w${tag}`, 3000);
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

export const fdExhaustion: Scenario = {
  id: 'fd-exhaustion',
  title: 'descriptor exhaustion under a lowered limit (prlimit --nofile)',
  suite: 'chaos',
  boundMs: (quick) => (quick ? 150_000 : 420_000),
  async run(ctx: Context) {
    const listeners: HogListener[] = ctx.quick
      ? ['line', 'ws']
      : ['line', 'irc', 'framed', 'ws', 'http', 'line', 'irc', 'framed', 'ws', 'http'];
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
    ctx.check(
      '/healthz on a fresh connection answered while exhausted',
      c.every((x) => x.freshHealthz === 200),
      c.map((x) => `${x.listener}: ${String(x.freshHealthz)}`).join('; '),
    );
    ctx.check(
      'exhaustion logged',
      emfileLines.length > 0,
      `${emfileLines.length} log lines mention EMFILE/descriptors`,
    );
    ctx.check(
      'exhaustion counted in /metrics',
      counted.some((k) => /emfile|descriptor|accept_?(error|fail)|refused/.test(k)),
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
