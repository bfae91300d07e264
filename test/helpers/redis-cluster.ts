/**
 * A real, throwaway Redis Cluster for tests: three masters (Debian's redis-server, each
 * with `cluster-enabled yes`, its own temporary directory and nodes.conf, on free loopback
 * ports), the 16,384 slots split between them by `redis-cli --cluster create`, with no
 * replicas or one per master (`replicas: 1`), ready once every node says
 * `cluster_state:ok` and knows every other (and each replica has its master's data).
 */
import { execFile } from 'node:child_process';
import { freePort, startRedis, type TestRedis } from './redis.js';

export interface TestRedisCluster {
  /** The masters, in the order given to `--cluster create` (slots 0-5460 on the first…). */
  readonly masters: readonly TestRedis[];
  /** Every server, masters first, then the replicas (if any). */
  readonly servers: readonly TestRedis[];
  /** The server that serves `key`'s slot now (CLUSTER NODES: after a failover, a move). */
  ownerOf(key: string): Promise<TestRedis>;
  /** A replica of `master` (replicas: 1). */
  replicaOf(master: TestRedis): Promise<TestRedis>;
  /** A server's node id (CLUSTER MYID). */
  idOf(server: TestRedis): Promise<string>;
  /** `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3` */
  readonly url: string;
  /** The slot of a key (CLUSTER KEYSLOT). */
  keyslot(key: string): Promise<number>;
  /** The index in `masters` of the one serving `key`'s slot. */
  masterOf(key: string): Promise<number>;
  /** FLUSHALL on every master. */
  flushAll(): Promise<void>;
  /** KEYS on every master, together. */
  keys(pattern: string): Promise<string[]>;
  dispose(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function redisCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * The slot ranges of each master as [from, to, port], from CLUSTER NODES: one line per
 * node, `<id> <ip:port@busport> <flags> <master> <ping> <pong> <epoch> <link> <slots…>`,
 * slots as `from-to` or one number.
 */
async function slotRanges(redis: TestRedis): Promise<[number, number, number][]> {
  const ranges: [number, number, number][] = [];
  for (const line of (await redis.cli('CLUSTER', 'NODES')).split('\n')) {
    const f = line.trim().split(' ');
    if (f.length < 9 || !(f[2] ?? '').includes('master')) continue;
    const port = Number((f[1] ?? '').split('@')[0]?.split(':')[1]);
    for (const r of f.slice(8)) {
      if (r.startsWith('[')) continue; // a slot being migrated
      const [from, to] = r.split('-');
      ranges.push([Number(from), Number(to ?? from), port]);
    }
  }
  return ranges;
}

export async function startRedisCluster(count = 3, replicas = 0): Promise<TestRedisCluster> {
  const masters: TestRedis[] = [];
  const total = count * (1 + replicas);
  try {
    for (let i = 0; i < total; i++) {
      // The cluster bus needs a port of its own (by default the port + 10,000, which may be
      // taken): a free one is given.
      const busPort = await freePort();
      masters.push(
        await startRedis({
          args: [
            ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
            ...['--cluster-port', String(busPort), '--cluster-node-timeout', '5000'],
          ],
        }),
      );
    }
    await redisCli([
      '--cluster',
      'create',
      ...masters.map((m) => `127.0.0.1:${m.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const infos = await Promise.all(masters.map((m) => m.cli('CLUSTER', 'INFO')));
      const ok = infos.every(
        (i) => i.includes('cluster_state:ok') && i.includes(`cluster_known_nodes:${total}`),
      );
      const synced =
        replicas === 0 ||
        (await Promise.all(masters.slice(count).map((m) => m.cli('INFO', 'replication')))).every(
          (i) => i.includes('master_link_status:up'),
        );
      if (ok && synced) break;
      if (Date.now() > deadline) throw new Error(`cluster not ready:\n${infos.join('\n')}`);
      await sleep(100);
    }
  } catch (err) {
    for (const m of masters) await m.dispose();
    throw err;
  }
  const servers = [...masters];
  masters.splice(count);
  const ranges = await slotRanges(masters[0] as TestRedis);
  const byPort = (port: number) => servers.find((s) => s.port === port);
  const nodeLines = async () =>
    (await (masters[0] as TestRedis).cli('CLUSTER', 'NODES'))
      .split('\n')
      .map((l) => l.trim().split(' '))
      .filter((f) => f.length >= 8);
  const portOfField = (f: string[]) => Number((f[1] ?? '').split('@')[0]?.split(':')[1]);
  const keyslot = async (key: string) =>
    Number(await (masters[0] as TestRedis).cli('CLUSTER', 'KEYSLOT', key));
  return {
    masters,
    servers,
    async ownerOf(key) {
      // The server that says of itself (its `myself` line) that it is a master serving the
      // slot: during a failover or a move, each one's own word about itself is the news.
      const slot = await keyslot(key);
      for (const s of servers) {
        const me = (await s.cli('CLUSTER', 'NODES'))
          .split('\n')
          .map((l) => l.trim().split(' '))
          .find((f) => (f[2] ?? '').includes('myself'));
        if (!me || !(me[2] ?? '').includes('master')) continue;
        for (const r of me.slice(8)) {
          if (r.startsWith('[')) continue;
          const [from, to] = r.split('-');
          if (slot >= Number(from) && slot <= Number(to ?? from)) return s;
        }
      }
      throw new Error(`no server serves slot ${slot}`);
    },
    async replicaOf(master) {
      const lines = await nodeLines();
      const id = lines.find((f) => portOfField(f) === master.port)?.[0];
      const replica = lines.find((f) => (f[2] ?? '').includes('slave') && f[3] === id);
      const server = replica && byPort(portOfField(replica));
      if (!server) throw new Error(`no replica of 127.0.0.1:${master.port}`);
      return server;
    },
    idOf: (server) => server.cli('CLUSTER', 'MYID'),
    url: `redis+cluster://${masters.map((m) => `127.0.0.1:${m.port}`).join(',')}`,
    keyslot,
    async masterOf(key) {
      const slot = await keyslot(key);
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`no master serves slot ${slot}`);
      return masters.findIndex((m) => m.port === range[2]);
    },
    async flushAll() {
      await Promise.all(masters.map((m) => m.cli('FLUSHALL')));
    },
    async keys(pattern) {
      const all = await Promise.all(masters.map((m) => m.cli('KEYS', pattern)));
      return all.flatMap((k) => k.split('\n').filter((x) => x.trim() !== ''));
    },
    async dispose() {
      for (const m of servers) await m.dispose();
    },
  };
}
