/** Plain counters the hub keeps; /metrics and the admin `stats` read them. */
export class Counters {
  connectionsAccepted = 0;
  connectionsRefused = 0;
  messagesIn = 0;
  /** Encoded events handed to a connection. */
  deliveries = 0;
  /** Distinct encodings built (deliveries / encodings = reuse factor). */
  encodings = 0;
  sendQueueEvictions = 0;
  floodDelayed = 0;
  floodDropped = 0;
  /** Requests or commands whose handler threw (a bug): the request failed, the server went on. */
  handlerErrors = 0;
  /** Events from other nodes lost in transit (the bus saw a gap in a sequence). */
  busGaps = 0;
  /** Times the bus lost the other nodes (Redis unreachable, a silent subscription). */
  busOutages = 0;
  readonly byProtocol = new Map<string, number>();

  connected(protocol: string): void {
    this.connectionsAccepted++;
    this.byProtocol.set(protocol, (this.byProtocol.get(protocol) ?? 0) + 1);
  }

  disconnected(protocol: string): void {
    this.byProtocol.set(protocol, (this.byProtocol.get(protocol) ?? 1) - 1);
  }
}
