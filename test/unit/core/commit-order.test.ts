/** core/commit-order.ts: output held behind commits, each invariant of its header. */
import { afterEach, expect, test, vi } from 'vitest';
import { CommitOrderedLink, END_WAIT_MS } from '../../../src/core/commit-order.js';
import type { Link } from '../../../src/core/ports.js';
import { MemoryConnection } from '../../helpers/memory-link.js';

class MemoryLink extends MemoryConnection implements Link {
  onData(): void {}
  onClose(): void {}
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const b = (s: string): Buffer => Buffer.from(s);
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

afterEach(() => {
  vi.useRealTimers();
});

test('nothing written after a barrier leaves before its commit; then all of it, in order', async () => {
  const inner = new MemoryLink();
  const link = new CommitOrderedLink(inner);
  const first = deferred();
  const second = deferred();
  link.write(b('a'));
  link.holdUntil(first.promise);
  link.write(b('ok1'));
  link.holdUntil(second.promise);
  link.write(b('ok2'));
  link.write(b('pong'));
  expect(inner.text).toBe('a');
  expect(link.pendingBytes()).toBe(10);
  second.resolve(); // a later commit cannot release what an earlier one holds
  await settle();
  expect(inner.text).toBe('a');
  first.resolve();
  await settle();
  expect(inner.text).toBe('aok1ok2pong');
  link.write(b('!'));
  expect(inner.text).toBe('aok1ok2pong!');
});

test('a commit that fails for good: what waits behind it is never sent, the link is closed', async () => {
  const inner = new MemoryLink();
  const link = new CommitOrderedLink(inner);
  const c = deferred();
  link.write(b('before'));
  link.holdUntil(c.promise);
  link.write(b('ok'));
  c.reject(new Error('the store is closed'));
  await settle();
  expect(inner.text).toBe('before');
  expect(inner.ended).toBe(true);
});

test('a close waits for the held output, then sends its last bytes', async () => {
  const inner = new MemoryLink();
  const link = new CommitOrderedLink(inner);
  const c = deferred();
  link.holdUntil(c.promise);
  link.write(b('ok'));
  link.end(b('bye'));
  link.write(b('late')); // after end(): dropped
  expect(inner.ended).toBe(false);
  c.resolve();
  await settle();
  expect(inner.text).toBe('ok');
  expect(inner.ended).toBe(true);
  expect(inner.last).toBe('bye');
});

test(`a close waits at most ${END_WAIT_MS} ms for a commit: then what is held is dropped`, () => {
  vi.useFakeTimers();
  const inner = new MemoryLink();
  const link = new CommitOrderedLink(inner);
  link.holdUntil(new Promise<void>(() => {})); // a store that stays down
  link.write(b('ok'));
  link.end(b('bye'));
  vi.advanceTimersByTime(END_WAIT_MS - 1);
  expect(inner.ended).toBe(false);
  vi.advanceTimersByTime(1);
  expect(inner.ended).toBe(true);
  expect(inner.text).toBe('');
  expect(inner.last).toBe('bye');
});

test('held bytes count against the send limit: past it nothing held is sent, overflow once', async () => {
  const inner = new MemoryLink();
  const link = new CommitOrderedLink(inner);
  const overflows: number[] = [];
  link.limitSendQueue(10, () => overflows.push(1));
  const c = deferred();
  link.holdUntil(c.promise);
  link.write(b('12345678')); // one write larger than what is left still fits when alone
  link.write(b('abc'));
  expect(overflows).toHaveLength(1);
  link.write(b('more'));
  c.resolve();
  await settle();
  expect(inner.text).toBe('');
  expect(overflows).toHaveLength(1);
  link.end(b('SendQ exceeded')); // what the owner does: its last bytes still go
  expect(inner.last).toBe('SendQ exceeded');
});

test('whenDrained waits for the held output too', async () => {
  const inner = new MemoryLink();
  const link = new CommitOrderedLink(inner);
  const c = deferred();
  link.holdUntil(c.promise);
  link.write(b('ok'));
  let drained = false;
  link.whenDrained(() => (drained = true));
  await settle();
  expect(drained).toBe(false);
  c.resolve();
  await settle();
  await settle();
  expect(drained).toBe(true);
});
