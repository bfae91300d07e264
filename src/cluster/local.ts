/**
 * The in-process bus: one node, so publishing is delivering. Delivery is synchronous,
 * which keeps the order protocols rely on (a JOIN reaches the joiner before the names
 * list that follows it).
 */
import type { ChatEvent } from '../core/events.js';
import type { Bus } from '../core/ports.js';

export class LocalBus implements Bus {
  readonly name = 'local';
  private deliver: ((event: ChatEvent) => void) | null = null;

  async start(deliver: (event: ChatEvent) => void): Promise<void> {
    this.deliver = deliver;
  }

  publish(event: ChatEvent): void {
    this.deliver?.(event);
  }

  healthy(): boolean {
    return this.deliver !== null;
  }

  async close(): Promise<void> {
    this.deliver = null;
  }
}
