/**
 * 6. kill -9 at random moments under load, counting acknowledged messages lost.
 *
 * Senders over the JSON protocols (framed TCP and WebSocket, several requests in flight
 * each) record every `ok {id}` and when it came; a reader in the room records what it was
 * shown. At a random moment the server gets SIGKILL; it is started again on the same data
 * directory, and history is read back (JSON `history` requests, in pages) as far as this
 * round's first acknowledgement. Every acknowledged id missing is a lost message; its age
 * (how long before the kill its acknowledgement reached the sender; negative when it was
 * still on its way as the signal went) says whether it is inside the documented window
 * (the store's 50 ms batch interval). Run without and with --ack-after-commit.
 *
 * Verdict: every restart succeeds; with --ack-after-commit nothing acknowledged is lost;
 * without it, only messages acknowledged within the window before the kill are; ids keep
 * increasing across the crash (no id handed out twice).
 */
import { FramedConn, WsConn, type JsonClient } from '../lib/clients.js';
import type { Context, Scenario } from '../lib/scenario.js';
import { Server } from '../lib/server.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, sleep } from '../lib/stats.js';

const SENDERS = 8;
/** A room per sender: each sender hears only itself, the reader hears everyone. */
const ROOMS = Array.from({ length: SENDERS }, (_, s) => `#crash${s}`);
const WINDOW = 16;
/** The documented window (--store-batch-interval, 50 ms) plus the time a batch takes. */
const WINDOW_MS = 50;
const SLACK_MS = 100;

interface Ack {
  id: string;
  at: number;
}

interface Round {
  mode: string;
  loadMs: number;
  acked: number;
  ackedPerSecond: number;
  unanswered: number;
  shownToReader: number;
  lost: number;
  lostShown: number;
  lostAgeMaxMs: number | null;
  lostAgeP50Ms: number | null;
  restartMs: number;
  duplicates: number;
  idAfterRestartIncreases: boolean;
}

/** Ids in `room` from the newest back to `oldest` (inclusive), over the protocol. */
async function historyIds(
  c: JsonClient,
  room: string,
  oldest: bigint,
  ids: string[],
): Promise<string | undefined> {
  await c.request({ type: 'join', room });
  let before: string | undefined;
  for (let page = 0; page < 2000; page++) {
    const h = await c.request(
      { type: 'history', room, limit: 500, ...(before ? { before } : {}) },
      20_000,
    );
    if (h.type !== 'history') return JSON.stringify(h).slice(0, 200);
    const msgs = h.messages as { id: string }[];
    if (msgs.length === 0) break;
    for (const m of msgs) ids.push(m.id);
    before = msgs[0]?.id as string;
    if (BigInt(before) <= oldest) break;
  }
  return undefined;
}

async function round(
  ctx: Context,
  dataDir: string,
  ackAfterCommit: boolean,
  r: number,
): Promise<Round> {
  const args = ['--flood-rate', '0', ...(ackAfterCommit ? ['--ack-after-commit'] : [])];
  const server = await Server.start({ dataDir, args, logLevel: 'warn' });
  const senders: JsonClient[] = [];
  for (let s = 0; s < SENDERS; s++) {
    const o = { keep: 1000 };
    const c =
      s % 2 === 0
        ? await FramedConn.connect(server.port('framed'), o)
        : await WsConn.open(server.port('http'), o);
    await c.hello(`s${r}x${s}`);
    await c.request({ type: 'join', room: ROOMS[s] as string });
    await c.request({ type: 'part', room: '#lobby' });
    senders.push(c);
  }
  const reader = await FramedConn.connect(server.port('framed'), { keep: 10 });
  await reader.hello(`watch${r}`);
  for (const room of ROOMS) await reader.request({ type: 'join', room });
  const shown = new Set<string>();
  reader.onRaw = (json) => {
    if (!json.startsWith('{"type":"message"')) return;
    shown.add((JSON.parse(json) as { id: string }).id);
  };

  const acks: Ack[][] = ROOMS.map(() => []);
  let unanswered = 0;
  let stop = false;
  const loadMs = ctx.rng.int(500, ctx.quick ? 2500 : 4000);
  const t0 = Date.now();
  const loops = senders.flatMap((c, s) =>
    Array.from({ length: WINDOW }, async (_, w) => {
      let n = 0;
      while (!stop) {
        try {
          const room = ROOMS[s] as string;
          const reply = await c.request(
            { type: 'say', room, text: `r${r} s${s} w${w} n${n++}` },
            10_000,
          );
          if (reply.type === 'ok' && typeof reply.id === 'string')
            acks[s]?.push({ id: reply.id, at: Date.now() });
          else unanswered++;
        } catch {
          unanswered++;
          return;
        }
      }
    }),
  );
  await sleep(loadMs);
  const killAt = Date.now();
  await server.kill9();
  stop = true;
  await Promise.race([Promise.all(loops), sleep(12_000)]);
  for (const c of senders) c.close();
  reader.close();

  const t1 = Date.now();
  const again = await Server.start({ dataDir, args, logLevel: 'warn', readyTimeoutMs: 30_000 });
  const restartMs = Date.now() - t1;
  const c = await FramedConn.connect(again.port('framed'));
  await c.hello(`after${r}`);
  const ids: string[] = [];
  for (const [s, room] of ROOMS.entries()) {
    const mine = acks[s] as Ack[];
    const oldest = mine.reduce(
      (m, a) => (BigInt(a.id) < m ? BigInt(a.id) : m),
      BigInt(mine[0]?.id ?? '0'),
    );
    const error = await historyIds(c, room, oldest, ids);
    if (error) ctx.log(`history error: ${error}`);
  }
  const stored = new Set(ids);
  const all = acks.flat();
  const lost = all.filter((a) => !stored.has(a.id));
  const ages = lost.map((a) => killAt - a.at);
  // A new message after the restart must get an id above everything stored.
  const after = await c.request({ type: 'say', room: ROOMS[0] as string, text: 'after the crash' });
  c.close();
  const maxStored = ids.reduce((m, id) => (BigInt(id) > m ? BigInt(id) : m), 0n);
  const maxAcked = all.reduce((m, a) => (BigInt(a.id) > m ? BigInt(a.id) : m), 0n);
  const newId = typeof after.id === 'string' ? BigInt(after.id) : 0n;
  await again.stop();
  return {
    mode: ackAfterCommit ? 'ack-after-commit' : 'default',
    loadMs: killAt - t0,
    acked: all.length,
    ackedPerSecond: Math.round(all.length / ((killAt - t0) / 1000)),
    unanswered,
    shownToReader: shown.size,
    lost: lost.length,
    lostShown: lost.filter((a) => shown.has(a.id)).length,
    lostAgeMaxMs: ages.length ? Math.max(...ages) : null,
    lostAgeP50Ms: ages.length ? percentile(ages, 0.5) : null,
    restartMs,
    duplicates: ids.length - stored.size,
    idAfterRestartIncreases: newId > maxStored && newId > maxAcked,
  };
}

export const kill9: Scenario = {
  id: 'kill9',
  title: 'kill -9 at random moments under load: acknowledged messages lost',
  suite: 'chaos',
  boundMs: (quick) => (quick ? 180_000 : 600_000),
  async run(ctx: Context) {
    const rounds = ctx.quick ? 3 : 10;
    const results: Round[] = [];
    for (const ackAfterCommit of [false, true]) {
      const dataDir = mkdtempSync(join(tmpdir(), 'plugboard-rel-kill-'));
      for (let r = 0; r < rounds && !ctx.expired(); r++) {
        const res = await round(ctx, dataDir, ackAfterCommit, r);
        results.push(res);
        ctx.log(JSON.stringify(res));
      }
    }
    const sum = (mode: string, f: (r: Round) => number): number =>
      results.filter((r) => r.mode === mode).reduce((n, r) => n + f(r), 0);
    for (const mode of ['default', 'ack-after-commit']) {
      const rs = results.filter((r) => r.mode === mode);
      ctx.figure(`${mode}: rounds`, rs.length);
      ctx.figure(
        `${mode}: acked`,
        sum(mode, (r) => r.acked),
      );
      ctx.figure(
        `${mode}: lost`,
        sum(mode, (r) => r.lost),
      );
      ctx.figure(
        `${mode}: lostShownToReader`,
        sum(mode, (r) => r.lostShown),
      );
      ctx.figure(
        `${mode}: ackedPerSecondP50`,
        percentile(
          rs.map((r) => r.ackedPerSecond),
          0.5,
        ),
      );
      ctx.figure(`${mode}: lostAgeMaxMs`, Math.max(0, ...rs.map((r) => r.lostAgeMaxMs ?? 0)));
    }
    ctx.figure('rounds', results);
    const d = results.filter((r) => r.mode === 'default');
    const a = results.filter((r) => r.mode === 'ack-after-commit');
    ctx.check(
      'every round ran and restarted',
      d.length === rounds && a.length === rounds,
      `${d.length} + ${a.length} rounds`,
    );
    ctx.check(
      'load was real (acknowledgements before each kill)',
      results.every((r) => r.acked > 0),
      results.map((r) => r.acked).join(' '),
    );
    ctx.check(
      '--ack-after-commit: nothing acknowledged lost',
      a.every((r) => r.lost === 0),
      a.map((r) => `${r.lost}/${r.acked}`).join(' '),
    );
    ctx.check(
      `default: only messages acknowledged within ${WINDOW_MS} ms (+${SLACK_MS} ms) of the kill lost`,
      d.every((r) => r.lostAgeMaxMs === null || r.lostAgeMaxMs <= WINDOW_MS + SLACK_MS),
      d
        .map((r) => `${r.lost} lost (oldest ${r.lostAgeMaxMs ?? '-'} ms before the kill)`)
        .join('; '),
    );
    ctx.check(
      'no id stored twice',
      results.every((r) => r.duplicates === 0),
      results.map((r) => r.duplicates).join(' '),
    );
    ctx.check(
      'ids keep increasing across the crash',
      results.every((r) => r.idAfterRestartIncreases),
    );
  },
};
