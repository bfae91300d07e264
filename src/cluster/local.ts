/**
 * The in-process bus: one node, so there is no one to transmit to, and this node's own
 * events are delivered inside `emit`. Nothing may rely on that (a networked bus delivers
 * later): `PLUGBOARD_TEST_BUS=async` runs any test with the asynchronous bus instead.
 */
import type { ChatEvent } from '../core/events.js';
import { newNodeId } from '../core/ids.js';
import { ClusterBus } from './bus.js';

export class LocalBus extends ClusterBus {
  readonly name = 'local';

  constructor(nodeId = newNodeId()) {
    super(nodeId, 0);
  }

  protected async open(): Promise<void> {}
  protected transmit(): void {}
  protected async listen(): Promise<void> {}
  protected async unlisten(): Promise<void> {}
  protected async shutdown(): Promise<void> {}

  protected loopback(event: ChatEvent): Promise<void> {
    this.deliverOwn(event);
    return Promise.resolve();
  }
}
