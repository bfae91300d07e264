/**
 * A bus for tests that delivers the way a networked bus does: on a later turn of the event
 * loop, after a JSON round trip (so no object is shared between sender and receivers and
 * nothing can depend on delivery inside `emit`). Several of them on one `AsyncWire` are
 * several nodes in one process: the wire carries envelopes to the buses listening on a
 * channel, in order.
 *
 * `PLUGBOARD_TEST_BUS=async` makes the server use it (server.ts), so any test run can
 * prove the core does not rely on synchronous delivery. Not for production: it connects
 * nothing outside the process.
 */
import type { ChatEvent } from '../core/events.js';
import { newNodeId } from '../core/ids.js';
import { ClusterBus, type Envelope } from './bus.js';

/** The "network" between in-process nodes: channel → listening buses. */
export class AsyncWire {
  private readonly listeners = new Map<string, Set<AsyncBus>>();
  /** Test hook: drop the next N envelopes sent on a channel (to show gap detection). */
  private readonly drops = new Map<string, number>();
  private nextNumber = 0;

  /** A node number unique on this wire (message ids). */
  allocate(): number {
    return this.nextNumber++ % 1000;
  }

  listen(channel: string, bus: AsyncBus): void {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(bus);
  }

  unlisten(channel: string, bus: AsyncBus): void {
    this.listeners.get(channel)?.delete(bus);
  }

  dropNext(channel: string, count: number): void {
    this.drops.set(channel, count);
  }

  send(channel: string, payload: string): void {
    const dropping = this.drops.get(channel) ?? 0;
    if (dropping > 0) {
      this.drops.set(channel, dropping - 1);
      return;
    }
    for (const bus of this.listeners.get(channel) ?? []) {
      setImmediate(() => bus.arrive(payload));
    }
  }
}

export class AsyncBus extends ClusterBus {
  readonly name = 'async';
  private readonly channels = new Set<string>();

  constructor(
    private readonly wire: AsyncWire = new AsyncWire(),
    nodeId = newNodeId(),
  ) {
    super(nodeId, wire.allocate());
  }

  protected async open(): Promise<void> {}

  protected transmit(channel: string, envelope: Envelope): void {
    this.wire.send(channel, JSON.stringify(envelope));
  }

  protected async listen(channel: string): Promise<void> {
    this.channels.add(channel);
    this.wire.listen(channel, this);
  }

  protected async unlisten(channel: string): Promise<void> {
    this.channels.delete(channel);
    this.wire.unlisten(channel, this);
  }

  protected async shutdown(): Promise<void> {
    for (const c of this.channels) this.wire.unlisten(c, this);
    this.channels.clear();
  }

  protected loopback(event: ChatEvent): Promise<void> {
    const json = JSON.stringify(event);
    return new Promise((resolve) => {
      setImmediate(() => {
        this.deliverOwn(JSON.parse(json) as ChatEvent);
        resolve();
      });
    });
  }

  /** A payload the wire carried to us. */
  arrive(payload: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(payload) as Envelope;
    } catch {
      this.stats.malformed++;
      return;
    }
    this.receive(envelope);
  }
}
