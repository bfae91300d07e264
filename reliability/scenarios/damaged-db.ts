/**
 * 5b. A damaged database. A real history is made by a real server (messages in several
 * rooms, topics, an account), the server is stopped cleanly, and copies of the file are
 * damaged in different ways: pages of the messages table or of an index overwritten,
 * the header or the schema page broken, the file cut short, a garbage WAL beside it,
 * random bit flips. A damaged file must be refused at start, with exit code 1 and a
 * clear message naming the file (no stack trace), quickly. Damage no check can see (a
 * bit flipped inside a message's text) may start; then reading every page of history
 * must not take the server down. A garbage WAL is not damage: SQLite ignores frames whose
 * checksums fail, so the server must start with the whole history.
 */
import {
  copyFileSync,
  mkdtempSync,
  openSync,
  readFileSync,
  closeSync,
  truncateSync,
  writeFileSync,
  writeSync,
  statSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FramedConn } from '../lib/clients.js';
import { repoRoot } from '../lib/paths.js';
import type { Rng } from '../lib/rng.js';
import type { Context, Scenario } from '../lib/scenario.js';
import { Server, StartFailure } from '../lib/server.js';

interface Db {
  prepare(sql: string): { all(...args: unknown[]): Record<string, unknown>[] };
  pragma(s: string, o?: { simple: boolean }): unknown;
  close(): void;
}
const Database = createRequire(import.meta.url)(
  join(repoRoot, 'node_modules/better-sqlite3'),
) as new (file: string, o?: { readonly: boolean }) => Db;

const ROOMS = ['#d0', '#d1', '#d2', '#d3', '#d4'];

interface Expectation {
  name: string;
  /** refuse: must not start. start: must start with the whole history. either: must not crash. */
  expect: 'refuse' | 'start' | 'either';
  damage(file: string, info: DbInfo, rng: Rng): void;
}
interface DbInfo {
  pageSize: number;
  pages: number;
  messageLeaves: number[];
  indexPages: number[];
}

function writeAt(file: string, offset: number, data: Buffer): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, data, 0, data.length, offset);
  } finally {
    closeSync(fd);
  }
}

const cases: Expectation[] = [
  { name: 'pristine copy (control)', expect: 'start', damage: () => {} },
  {
    name: 'header zeroed (first 100 bytes)',
    expect: 'refuse',
    damage: (f) => writeAt(f, 0, Buffer.alloc(100)),
  },
  {
    name: 'page size field broken',
    expect: 'refuse',
    damage: (f) => writeAt(f, 16, Buffer.from([0x03, 0x00])),
  },
  {
    name: 'schema page (page 1) body garbage',
    expect: 'refuse',
    damage: (f, i, rng) => writeAt(f, 100, rng.bytes(i.pageSize - 100)),
  },
  {
    name: '3 leaf pages of the messages table overwritten with random bytes',
    expect: 'refuse',
    damage: (f, i, rng) => {
      for (let k = 0; k < 3; k++) {
        const page = i.messageLeaves[
          Math.floor(i.messageLeaves.length * (0.2 + 0.3 * k))
        ] as number;
        writeAt(f, (page - 1) * i.pageSize, rng.bytes(i.pageSize));
      }
    },
  },
  {
    name: 'an index page zeroed',
    expect: 'refuse',
    damage: (f, i) =>
      writeAt(
        f,
        ((i.indexPages[Math.floor(i.indexPages.length / 2)] as number) - 1) * i.pageSize,
        Buffer.alloc(i.pageSize),
      ),
  },
  {
    name: 'file cut to half its size',
    expect: 'refuse',
    damage: (f, i) => truncateSync(f, Math.floor(i.pages / 2) * i.pageSize),
  },
  {
    name: 'file replaced by text',
    expect: 'refuse',
    damage: (f) => writeFileSync(f, 'this is not a database\n'.repeat(1000)),
  },
  {
    name: 'garbage WAL beside a good file',
    expect: 'start',
    damage: (f, i, rng) => writeFileSync(`${f}-wal`, rng.bytes(i.pageSize * 8 + 32)),
  },
  {
    name: '200 random bit flips in message cell contents',
    expect: 'either',
    damage: (f, i, rng) => {
      const buf = readFileSync(f);
      for (let k = 0; k < 200; k++) {
        const page = rng.pick(i.messageLeaves);
        // The last quarter of a leaf page is cell content (cells grow from the end).
        const off =
          (page - 1) * i.pageSize + rng.int(Math.floor(i.pageSize * 0.75), i.pageSize - 1);
        buf[off] = (buf[off] as number) ^ (1 << rng.int(0, 7));
      }
      writeFileSync(f, buf);
    },
  },
  { name: 'zero-length file', expect: 'either', damage: (f) => truncateSync(f, 0) },
];

/** Every message of every room, over the protocol, paged backwards. */
async function readAllHistory(server: Server): Promise<{ count: number; error?: string }> {
  const c = await FramedConn.connect(server.port('framed'));
  try {
    await c.hello('reader');
    let count = 0;
    for (const room of ROOMS) {
      // A room exists (and has history to ask for) once someone is in it.
      const j = await c.request({ type: 'join', room }, 10_000);
      if (j.type === 'error') return { count, error: JSON.stringify(j).slice(0, 200) };
      let before: string | undefined;
      for (let page = 0; page < 100; page++) {
        const h = await c.request(
          { type: 'history', room, limit: 500, ...(before ? { before } : {}) },
          10_000,
        );
        if (h.type !== 'history') return { count, error: JSON.stringify(h).slice(0, 200) };
        const msgs = h.messages as { id: string }[];
        if (msgs.length === 0) break;
        count += msgs.length;
        before = msgs[0]?.id;
      }
    }
    return { count };
  } finally {
    c.close();
  }
}

export const damagedDb: Scenario = {
  id: 'damaged-db',
  title: 'a damaged database: refused at start with a clear message, never a crash',
  suite: 'chaos',
  boundMs: (quick) => (quick ? 150_000 : 300_000),
  async run(ctx: Context) {
    // ---- make a real history -------------------------------------------------------
    const perRoom = ctx.quick ? 600 : 2000;
    const seed = await Server.start({ args: ['--flood-rate', '0'], logLevel: 'warn' });
    const w = await FramedConn.connect(seed.port('framed'));
    await w.hello('writer');
    await w.request({ type: 'register', password: 'secret-pass' });
    for (const room of ROOMS) {
      await w.request({ type: 'join', room });
      await w.request({ type: 'topic', room, topic: `topic of ${room}` });
      for (let i = 0; i < perRoom; i += 100) {
        for (let k = 0; k < 99; k++)
          w.send({ type: 'say', room, text: `${room} message ${i + k} ${'x'.repeat(150)}` });
        await w.request({ type: 'say', room, text: `${room} message ${i + 99}` }, 20_000);
      }
    }
    w.close();
    const seedExit = await seed.stop();
    ctx.check(
      'the history was made and the server stopped cleanly',
      seedExit.code === 0,
      JSON.stringify(seedExit),
    );
    const pristine = join(seed.dataDir, 'plugboard.db');
    const db = new Database(pristine, { readonly: true });
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    const stat = (sql: string): number[] =>
      db
        .prepare(sql)
        .all()
        .map((r) => Number(r.pageno));
    const info: DbInfo = {
      pageSize,
      pages,
      messageLeaves: stat(
        "SELECT pageno FROM dbstat WHERE name = 'messages' AND pagetype = 'leaf'",
      ),
      indexPages: stat("SELECT pageno FROM dbstat WHERE name = 'messages_room'"),
    };
    db.close();
    const total = ROOMS.length * perRoom;
    ctx.figure('database', {
      bytes: statSync(pristine).size,
      pageSize,
      pages,
      messages: total,
      messageLeafPages: info.messageLeaves.length,
    });

    // ---- damage copies, start on each --------------------------------------------------
    const results: Record<string, unknown>[] = [];
    for (const c of cases) {
      if (ctx.expired()) break;
      const dir = mkdtempSync(join(tmpdir(), 'plugboard-rel-db-'));
      const file = join(dir, 'plugboard.db');
      copyFileSync(pristine, file);
      c.damage(file, info, ctx.rng);
      const r: Record<string, unknown> = { case: c.name, expect: c.expect };
      let server: Server | null = null;
      const t0 = Date.now();
      try {
        server = await Server.start({
          dataDir: dir,
          readyTimeoutMs: 20_000,
          args: ['--flood-rate', '0'],
        });
        r.started = true;
        r.startMs = Date.now() - t0;
      } catch (err) {
        if (!(err instanceof StartFailure)) throw err;
        r.started = false;
        r.exit = err.code;
        r.signal = err.signal;
        r.startMs = err.ms;
        const lines = err.output.split('\n').filter((l) => l.includes('cannot start'));
        r.message = (lines[0] ?? err.output.split('\n').slice(-3).join(' ')).slice(0, 400);
        r.stackTrace = /\n\s+at .+\(.+:\d+:\d+\)/.test(err.output);
      }
      if (server) {
        const h = await readAllHistory(server).catch((e: Error) => ({
          count: -1,
          error: e.message,
        }));
        r.historyRead = h.count;
        if (h.error) r.historyError = h.error;
        r.aliveAfterReading = server.alive() && (await server.healthy());
        r.readyz = await server.get('/readyz').then(
          (x) => x.status,
          () => 'no answer',
        );
        r.damageLogged = server
          .log()
          .split('\n')
          .filter((l) => /corrupt|malformed|damaged|SQLITE_CORRUPT|NOTADB/i.test(l)).length;
        await server.stop();
      }
      results.push(r);
      ctx.log(JSON.stringify(r));

      const clear = (): boolean =>
        r.exit === 1 &&
        r.stackTrace === false &&
        typeof r.message === 'string' &&
        r.message.includes('plugboard.db') &&
        /not a usable SQLite database|damaged|malformed/i.test(r.message);
      if (c.expect === 'refuse') {
        ctx.check(
          `${c.name}: refused at start, exit 1, clear message, no stack trace, within 20 s`,
          r.started === false && clear(),
          r.started
            ? `STARTED (history read ${String(r.historyRead)} of ${total}, readyz ${String(r.readyz)})`
            : `exit ${String(r.exit)} in ${String(r.startMs)} ms: ${String(r.message)}`,
        );
      } else if (c.expect === 'start') {
        ctx.check(
          `${c.name}: starts with the whole history`,
          r.started === true && r.historyRead === total && r.aliveAfterReading === true,
          r.started
            ? `history ${String(r.historyRead)} of ${total}${r.historyError ? ` (${String(r.historyError)})` : ''}`
            : `refused: ${String(r.message)}`,
        );
      } else {
        ctx.check(
          `${c.name}: a clear refusal, or a start that survives reading all history`,
          r.started === true ? r.aliveAfterReading === true : clear(),
          r.started
            ? `started; history ${String(r.historyRead)} of ${total}${r.historyError ? ` (${String(r.historyError)})` : ''}, readyz ${String(r.readyz)}, damage log lines ${String(r.damageLogged)}`
            : `refused: exit ${String(r.exit)}: ${String(r.message)}`,
        );
      }
    }
    ctx.figure('cases', results);
  },
};
