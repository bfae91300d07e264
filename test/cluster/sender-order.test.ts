/**
 * SenderOrder: a sender's scripts in flight per room are one batch at a time, so a script
 * sent again (MOVED, NOSCRIPT) cannot be overtaken by one the sender sent after it.
 */
import { expect, test } from 'vitest';
import { ClusterBus, type Position } from '../../src/cluster/bus.js';
import { SenderOrder } from '../../src/cluster/sender-order.js';
import type { ChatEvent } from '../../src/core/events.js';

/** A piece of work the test settles by hand, recording when it started. */
function manual(log: string[], name: string) {
  let settle: { resolve: (v: string) => void; reject: (e: Error) => void } | undefined;
  const start = (): Promise<string> => {
    log.push(`start ${name}`);
    return new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  };
  return {
    start,
    resolve: () => settle?.resolve(name),
    reject: () => settle?.reject(new Error(`${name} refused`)),
  };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

test('a message sent while one is in flight waits for it, then goes with the others sent meanwhile', async () => {
  const order = new SenderOrder();
  const log: string[] = [];
  const [m1, m2, m3] = ['m1', 'm2', 'm3'].map((n) => manual(log, n)) as [
    ReturnType<typeof manual>,
    ReturnType<typeof manual>,
    ReturnType<typeof manual>,
  ];
  const done = [m1, m2, m3].map((m) => order.run('#a\0alice', true, m.start));
  await turn();
  expect(log).toEqual(['start m1']);
  m1.resolve();
  await turn();
  // m2 and m3 waited together and go as one batch, in the order sent.
  expect(log).toEqual(['start m1', 'start m2', 'start m3']);
  m3.resolve();
  m2.resolve();
  expect(await Promise.all(done)).toEqual(['m1', 'm2', 'm3']);
  await turn(); // the lane is dropped once its last piece of work has settled
  expect(order.busy).toBe(0);
});

test('anything but a message goes alone: nothing overtakes it and it overtakes nothing', async () => {
  const order = new SenderOrder();
  const log: string[] = [];
  const m1 = manual(log, 'm1');
  const join = manual(log, 'join');
  const m2 = manual(log, 'm2');
  const p1 = order.run('k', true, m1.start);
  const pj = order.run('k', false, join.start);
  const p2 = order.run('k', true, m2.start);
  await turn();
  expect(log).toEqual(['start m1']);
  m1.resolve();
  await turn();
  expect(log).toEqual(['start m1', 'start join']);
  join.resolve();
  await turn();
  expect(log).toEqual(['start m1', 'start join', 'start m2']);
  m2.resolve();
  expect(await Promise.all([p1, pj, p2])).toEqual(['m1', 'join', 'm2']);
});

test('a refused send is the sender’s error and does not hold back what follows', async () => {
  const order = new SenderOrder();
  const log: string[] = [];
  const m1 = manual(log, 'm1');
  const m2 = manual(log, 'm2');
  const p1 = order.run('k', true, m1.start);
  const p2 = order.run('k', true, m2.start);
  m1.reject();
  await expect(p1).rejects.toThrow('m1 refused');
  await turn();
  expect(log).toEqual(['start m1', 'start m2']);
  m2.resolve();
  expect(await p2).toBe('m2');
  // A start that throws at once is an error too, not a stuck sender.
  const p3 = order.run('k', true, () => {
    throw new Error('no link');
  });
  await expect(p3).rejects.toThrow('no link');
  expect(await order.run('k', true, () => Promise.resolve('after'))).toBe('after');
  await turn(); // the lane is dropped once its last piece of work has settled
  expect(order.busy).toBe(0);
});

test('senders (and rooms) do not wait for each other', async () => {
  const order = new SenderOrder();
  const log: string[] = [];
  const a = manual(log, 'alice');
  const b = manual(log, 'bob');
  const pa = order.run('#a\0alice', false, a.start);
  const pb = order.run('#a\0bob', false, b.start);
  await turn();
  expect(log).toEqual(['start alice', 'start bob']);
  b.resolve();
  expect(await pb).toBe('bob');
  a.resolve();
  expect(await pa).toBe('alice');
});

/**
 * A sequencing transport whose ordering point runs each script after a delay of its own:
 * the first script of a sender is slow (sent back after a MOVED, say) and the ones after
 * it are fast. The room's offsets are handed out when a script runs, as Redis does.
 */
class SlowFirstBus extends ClusterBus {
  readonly name = 'slow-first';
  protected override readonly sequenced = true;
  /** As a Redis Cluster's link: a script may be sent again after a later one. */
  protected override get resends(): boolean {
    return true;
  }
  private next = 0;
  private readonly delays = [30, 0, 0];

  protected async open(): Promise<void> {}
  protected transmit(): void {}
  protected async listen(): Promise<void> {}
  protected async unlisten(): Promise<void> {}
  protected async shutdown(): Promise<void> {}
  protected loopback(): Promise<void> {
    return Promise.resolve();
  }
  protected override sequence(): Promise<Position> {
    const delay = this.delays.shift() ?? 0;
    return new Promise((resolve) => setTimeout(() => resolve({ p: this.next++, x: 'e' }), delay));
  }
}

test('through the bus: a slow first script does not let the sender’s next ones overtake it', async () => {
  const bus = new SlowFirstBus('node-a', 1);
  const delivered: string[] = [];
  await bus.start({
    deliver: (e) => {
      if (e.type === 'message') delivered.push(e.text);
    },
    gap: () => undefined,
  });
  bus.watch('#a');
  bus.resume('#a', { epoch: 'e', next: 0 });
  const message = (text: string): ChatEvent => ({
    type: 'message',
    id: text,
    ts: 0,
    room: '#a',
    from: { name: 'alice', mask: 'alice!a@h', account: null },
    text,
    kind: 'say',
    origin: 'node-a:1',
  });
  await Promise.all(['m1', 'm2', 'm3'].map((t) => bus.emit(message(t), { rooms: ['#a'] })));
  expect(delivered).toEqual(['m1', 'm2', 'm3']);
});
