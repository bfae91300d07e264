/**
 * Node/V8 flags the server is started with (`npm start`, bin/plugboard.js, the benchmark).
 *
 * V8 lets its young generation grow to 16 MiB semi-spaces on a 64-bit machine, and keeps
 * them after a burst (tens of thousands of connections registering). For a chat server
 * that holds many idle connections, that reserve is most of the memory per connection;
 * 2 MiB semi-spaces cost a few more, cheap scavenges at very high message rates (measured
 * in docs/benchmarks.md). They can only be set at startup, not from inside the process.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
