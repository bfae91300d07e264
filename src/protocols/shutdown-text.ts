/**
 * The sentence a person reads when the server shuts down, for the IRC ERROR and the
 * terminal client. The reason given when nobody gave one (SIGTERM, SIGINT, a console
 * `shutdown` without words) is "server shutting down" itself: after "Server shutting
 * down:" it would say the same thing twice.
 */
export function shutdownText(reason: string): string {
  const why = reason.trim();
  return why === '' || why.toLowerCase() === 'server shutting down'
    ? 'Server shutting down'
    : `Server shutting down: ${why}`;
}
