/**
 * Every limit the server enforces, with its default, in one place.
 * The CLI, environment and config file all end up here (see src/config.ts).
 */
export interface ServerOptions {
  /** The name the server gives itself in every protocol. */
  serverName: string;
  /** Pending outbound bytes per connection before it is evicted ("send queue exceeded"). */
  sendQueueBytes: number;
  /** Longest accepted line on the line protocol, in bytes (without the line end). */
  maxLineBytes: number;
  /** Token bucket: lines allowed in a burst. */
  floodBurst: number;
  /** Token bucket: sustained lines per second. 0 turns flood control off. */
  floodRate: number;
  /** Lines a flooding connection may have waiting before further lines are dropped. */
  floodQueueLines: number;
  /** Total simultaneous connections across all listeners. */
  maxConnections: number;
  /** Simultaneous connections from one IP address. */
  maxConnectionsPerIp: number;
  /** Milliseconds a connection may take to choose a name. */
  registrationTimeoutMs: number;
  /** Milliseconds without any input before a registered connection is closed. 0 = never. */
  idleTimeoutMs: number;
  /** Messages kept per room by the in-memory history ring. */
  historyRing: number;
  /** History retention: maximum age in ms (0: forever) and messages per room (0: all). */
  retentionMaxAgeMs: number;
  retentionMaxCount: number;
  /** Messages replayed when someone joins a room. */
  historyOnJoin: number;
  /** Most bytes of topic text. */
  topicLength: number;
  /** Longest name (nick), in characters. */
  nameLength: number;
  /** Longest room name, in characters including the leading '#'. */
  roomNameLength: number;
  /** Most rooms one person may be in. */
  maxRoomsPerUser: number;
  /** Longest message text, in bytes (longer text is cut, never split). */
  maxMessageBytes: number;
  /** Rooms with more members than this show joins and parts as a digest (line protocol). */
  rosterDigestThreshold: number;
  /** Milliseconds of silence before a keepalive PING (IRC). */
  pingIntervalMs: number;
  /** Milliseconds to answer that PING before the connection is closed ("Ping timeout"). */
  pingTimeoutMs: number;
  /** Milliseconds shutdown waits for queues to drain before closing sockets. */
  shutdownGraceMs: number;
  /** Room everyone lands in after choosing a name. */
  defaultRoom: string;
  /** Server operators: name → password (IRC OPER, line /oper). */
  opers: Map<string, string>;
  /** Connection password required before registration (IRC PASS), or null. */
  password: string | null;
  /** Message of the day lines. */
  motd: string[];
  /**
   * Acknowledge a message only once the store committed it (Store.appendMessage's promise),
   * closing the up-to-one-flush-interval window in which a crash loses an acknowledged
   * message; costs that interval (about 50 ms) of latency per acknowledgement.
   */
  ackAfterCommit: boolean;
}

export function defaultOptions(): ServerOptions {
  return {
    serverName: 'plugboard.local',
    sendQueueBytes: 256 * 1024,
    maxLineBytes: 4096,
    floodBurst: 10,
    floodRate: 2,
    floodQueueLines: 20,
    maxConnections: 100_000,
    maxConnectionsPerIp: 100_000,
    registrationTimeoutMs: 60_000,
    idleTimeoutMs: 0,
    historyRing: 200,
    historyOnJoin: 10,
    retentionMaxAgeMs: 0,
    retentionMaxCount: 0,
    topicLength: 390,
    nameLength: 30,
    roomNameLength: 50,
    maxRoomsPerUser: 50,
    maxMessageBytes: 4000,
    rosterDigestThreshold: 50,
    pingIntervalMs: 120_000,
    pingTimeoutMs: 60_000,
    shutdownGraceMs: 3000,
    defaultRoom: '#lobby',
    opers: new Map(),
    password: null,
    motd: ['Welcome to Plugboard.', 'Be kind. Type /help for commands.'],
    ackAfterCommit: false,
  };
}
