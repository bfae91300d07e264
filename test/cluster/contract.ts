/**
 * The bus contract: every Bus implementation runs this suite (LocalBus and the async test
 * bus now, Redis next). `nodes(n)` makes n started buses that form one chat; a bus that
 * is one node only (LocalBus) runs the single-node part.
 */
import { expect, test } from 'vitest';
import type { ChatEvent, MessageEvent, NoticeEvent } from '../../src/core/events.js';
import type { Bus, BusSink } from '../../src/core/ports.js';

export interface Node {
  bus: Bus;
  received: ChatEvent[];
  /** Where a sequencing bus said each received event is in its room's stream. */
  positions: ({ offset: number; epoch: string } | undefined)[];
  gaps: { origin: string; channel: string; missed: number }[];
}

export interface BusFactory {
  name: string;
  /** Most nodes this bus can join into one chat (1 for the in-process bus). */
  maxNodes: number;
  /** Buses, not yet started. */
  make(n: number): Promise<Bus[]>;
  /** Makes the transport lose the next `count` envelopes on a channel (gap detection). */
  lose?(channel: string, count: number): void;
  /** The transport orders each room (all nodes deliver a room in one order). */
  sequenced?: boolean;
  cleanup?(): Promise<void>;
}

export async function startNodes(factory: BusFactory, n: number): Promise<Node[]> {
  const buses = await factory.make(n);
  const nodes: Node[] = [];
  for (const bus of buses) {
    const node: Node = { bus, received: [], positions: [], gaps: [] };
    const sink: BusSink = {
      deliver: (e, offset, epoch) => {
        node.received.push(e);
        node.positions.push(
          offset !== undefined && epoch !== undefined ? { offset, epoch } : undefined,
        );
      },
      gap: (origin, channel, missed) => node.gaps.push({ origin, channel, missed }),
    };
    await bus.start(sink);
    nodes.push(node);
  }
  return nodes;
}

let seq = 0;
function notice(origin: string, text: string, room?: string): NoticeEvent {
  return { type: 'notice', ts: ++seq, origin, text, ...(room ? { room } : {}) };
}

/** Waits until `check` holds, looking again on every turn (bounded). */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  expect(check()).toBe(true);
}

/**
 * Starts receiving a room: a bus that keeps rooms' shared state holds the room's events
 * until it is told, from a snapshot, where the node's state starts.
 */
async function watch(node: Node, room: string): Promise<void> {
  node.bus.watch(room);
  if (node.bus.snapshot && node.bus.resume) {
    const snap = await node.bus.snapshot(room);
    node.bus.resume(room, { epoch: snap.epoch, next: snap.offset + 1 });
  }
}

function texts(node: Node): string[] {
  return node.received.map((e) => (e as NoticeEvent).text);
}

export function busContract(factory: BusFactory): void {
  test(`${factory.name}: emit delivers an event to its own node once, and settles after`, async () => {
    const [a] = await startNodes(factory, 1);
    const node = a as Node;
    const done = node.bus.emit(notice(node.bus.nodeId, 'one'), { everyone: true });
    await done;
    expect(texts(node)).toEqual(['one']);
    // Nothing arrives twice, whatever the transport echoes back later.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(texts(node)).toEqual(['one']);
    // Events are plain data: what was delivered is equal to what was emitted.
    expect(node.received[0]).toMatchObject({ type: 'notice', text: 'one' });
    await node.bus.close();
    await factory.cleanup?.();
  });

  test(`${factory.name}: one origin's events arrive in the order they were emitted`, async () => {
    const [a] = await startNodes(factory, 1);
    const node = a as Node;
    const all = Array.from({ length: 200 }, (_, i) =>
      node.bus.emit(notice(node.bus.nodeId, `m${i}`), { rooms: ['#r'] }),
    );
    await Promise.all(all);
    expect(texts(node)).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
    await node.bus.close();
    await factory.cleanup?.();
  });

  test(`${factory.name}: after close, emit refuses and nothing is delivered`, async () => {
    const [a] = await startNodes(factory, 1);
    const node = a as Node;
    await node.bus.close();
    expect(node.bus.healthy()).toBe(false);
    await expect(
      node.bus.emit(notice(node.bus.nodeId, 'late'), { everyone: true }),
    ).rejects.toThrow();
    expect(node.received).toEqual([]);
    await factory.cleanup?.();
  });

  if (factory.maxNodes < 2) return;

  test(`${factory.name}: other nodes get room events only while they watch the room`, async () => {
    const [a, b, c] = (await startNodes(factory, 3)) as [Node, Node, Node];
    await watch(b, '#one');
    await watch(c, '#two');
    await a.bus.emit(notice(a.bus.nodeId, 'to one', '#one'), { rooms: ['#one'] });
    await a.bus.emit(notice(a.bus.nodeId, 'to two', '#two'), { rooms: ['#two'] });
    await until(() => b.received.length === 1 && c.received.length === 1);
    expect(texts(b)).toEqual(['to one']);
    expect(texts(c)).toEqual(['to two']);
    b.bus.unwatch('#one');
    await a.bus.emit(notice(a.bus.nodeId, 'after', '#one'), { rooms: ['#one'] });
    await a.bus.emit(notice(a.bus.nodeId, 'marker', '#two'), { rooms: ['#two'] });
    await until(() => c.received.length === 2);
    expect(texts(b)).toEqual(['to one']);
    for (const n of [a, b, c]) await n.bus.close();
    await factory.cleanup?.();
  });

  test(`${factory.name}: node and everyone routes; an event for several rooms arrives once`, async () => {
    const [a, b] = (await startNodes(factory, 2)) as [Node, Node];
    await watch(b, '#x');
    await watch(b, '#y');
    await a.bus.emit(notice(a.bus.nodeId, 'direct'), { nodes: [b.bus.nodeId] });
    await a.bus.emit(notice(a.bus.nodeId, 'all'), { everyone: true });
    await a.bus.emit(notice(a.bus.nodeId, 'quit-like'), {
      rooms: ['#x', '#y'],
      nodes: [a.bus.nodeId],
    });
    await until(() => b.received.length >= 3);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    // Each exactly once. Not in one order: three routes are three channels, and on a Redis
    // Cluster three shards, with no order between them (order within a room and per
    // origin on one channel is the contract: the tests around this one).
    expect(texts(b).sort()).toEqual(['all', 'direct', 'quit-like']);
    // The sender delivered each of its own once.
    expect(texts(a).sort()).toEqual(['all', 'direct', 'quit-like']);
    for (const n of [a, b]) await n.bus.close();
    await factory.cleanup?.();
  });

  test(`${factory.name}: per-origin order holds on every node while several send at once`, async () => {
    const nodes = (await startNodes(factory, 3)) as Node[];
    for (const n of nodes) await watch(n, '#busy');
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) {
      for (const n of nodes)
        sends.push(n.bus.emit(notice(n.bus.nodeId, `${n.bus.nodeId}:${i}`), { rooms: ['#busy'] }));
    }
    await Promise.all(sends);
    await until(() => nodes.every((n) => n.received.length === 300));
    for (const n of nodes) {
      for (const origin of nodes) {
        const mine = texts(n).filter((t) => t.startsWith(`${origin.bus.nodeId}:`));
        expect(mine).toEqual(Array.from({ length: 100 }, (_, i) => `${origin.bus.nodeId}:${i}`));
      }
    }
    for (const n of nodes) await n.bus.close();
    await factory.cleanup?.();
  });

  if (factory.sequenced) {
    test(`${factory.name}: every node, the senders' included, delivers a room in one order`, async () => {
      const nodes = (await startNodes(factory, 3)) as Node[];
      for (const n of nodes) await watch(n, '#order');
      const sends: Promise<void>[] = [];
      for (let i = 0; i < 100; i++) {
        for (const n of nodes) {
          sends.push(
            n.bus.emit(notice(n.bus.nodeId, `${n.bus.nodeId}:${i}`, '#order'), {
              rooms: ['#order'],
            }),
          );
        }
      }
      await Promise.all(sends);
      await until(() => nodes.every((n) => n.received.length === 300));
      const first = texts(nodes[0] as Node);
      for (const n of nodes) expect(texts(n)).toEqual(first);
      for (const n of nodes) await n.bus.close();
      await factory.cleanup?.();
    });
  }

  if (factory.sequenced) {
    test(`${factory.name}: deliveries carry their offset; messagesBefore pages the stream's messages backwards`, async () => {
      const [a, b] = (await startNodes(factory, 2)) as [Node, Node];
      for (const n of [a, b]) await watch(n, '#tail');
      const said = (i: number): MessageEvent => ({
        type: 'message',
        id: String(1_000_000 + i),
        ts: ++seq,
        room: '#tail',
        from: { name: 'ann', mask: 'ann!a@h', account: null },
        text: `m${i}`,
        kind: 'say',
        origin: a.bus.nodeId,
      });
      // Messages and, between them, events that are not messages.
      for (let i = 0; i < 5; i++) {
        await a.bus.emit(said(i), { rooms: ['#tail'] });
        await a.bus.emit(notice(a.bus.nodeId, `n${i}`, '#tail'), {
          rooms: ['#tail'],
        });
      }
      await until(() => b.received.length === 10);
      const at = b.positions.map((p) => p?.offset);
      expect(at).toEqual(a.positions.map((p) => p?.offset));
      expect(at).toEqual(at.map((_, i) => (at[0] as number) + i));
      const epoch = (b.positions[0] as { epoch: string }).epoch;
      const last = at[9] as number;
      const text = (e: { event: ChatEvent }) => (e.event as MessageEvent).text;
      const page = await b.bus.messagesBefore?.('#tail', epoch, last, 2);
      expect(page?.messages.map(text)).toEqual(['m4', 'm3']);
      expect(page?.messages.map((e) => e.offset)).toEqual([last - 1, last - 3]);
      expect(page?.next).toBe(last - 3);
      // Past the start of the stream: what there is, and nothing older. Another epoch: none.
      const all = await b.bus.messagesBefore?.('#tail', epoch, last + 1, 100);
      expect(all?.messages.map(text)).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
      expect(all?.next).toBe(0);
      expect(await b.bus.messagesBefore?.('#tail', `${epoch}x`, last + 1, 100)).toEqual({
        messages: [],
        next: 0,
      });
      for (const n of [a, b]) await n.bus.close();
      await factory.cleanup?.();
    });
  }

  if (factory.lose) {
    test(`${factory.name}: a lost envelope is reported as a gap, and later ones still arrive`, async () => {
      const [a, b] = (await startNodes(factory, 2)) as [Node, Node];
      await watch(b, '#lossy');
      await a.bus.emit(notice(a.bus.nodeId, 'first', '#lossy'), { rooms: ['#lossy'] });
      await until(() => b.received.length === 1);
      factory.lose?.('r:#lossy', 2);
      for (const t of ['lost1', 'lost2', 'after']) {
        await a.bus.emit(notice(a.bus.nodeId, t, '#lossy'), { rooms: ['#lossy'] });
      }
      await until(() => b.received.length === 2);
      expect(texts(b)).toEqual(['first', 'after']);
      expect(b.gaps).toEqual([{ origin: a.bus.nodeId, channel: 'r:#lossy', missed: 2 }]);
      for (const n of [a, b]) await n.bus.close();
      await factory.cleanup?.();
    });
  }
}
