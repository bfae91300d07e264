/**
 * The `--bus` forms that name Redis. One Redis is a URL as node-redis reads it
 * (`redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS); a Redis Cluster
 * is `redis+cluster://[[user]:password@]host[:port][,host[:port]…]` (`rediss+cluster://`
 * for TLS): a few of its nodes, from which the client learns the rest (CLUSTER SLOTS).
 * A WHATWG URL has one host, so the cluster form is read here: the nodes are split at
 * commas, each `host`, `host:port` or `[v6]:port`. A cluster has database 0 only, so a
 * path other than `/` or `/0` is refused rather than ignored.
 */

export interface ClusterAddress {
  host: string;
  port: number;
}

export interface ClusterUrl {
  tls: boolean;
  username?: string;
  password?: string;
  nodes: ClusterAddress[];
}

export class BusUrlError extends Error {}

const DEFAULT_PORT = 6379;
const ONE_REDIS = /^rediss?:\/\//i;
const CLUSTER = /^(rediss?)\+cluster:\/\//i;

/** Whether `--bus` names one Redis or a Redis Cluster (a shared bus: several processes). */
export function isRedisBus(bus: string): boolean {
  return ONE_REDIS.test(bus) || CLUSTER.test(bus);
}

export function isClusterBus(bus: string): boolean {
  return CLUSTER.test(bus);
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new BusUrlError(`--bus: the ${what} is not valid percent-encoding`);
  }
}

/** Characters a host of the list cannot hold (they end or split it). */
function badHost(host: string): boolean {
  if (host === '') return true;
  for (const ch of host) {
    const c = ch.codePointAt(0) as number;
    if (c <= 0x20 || c === 0x7f || '/?#@,[]'.includes(ch)) return true;
  }
  return false;
}

function parsePort(text: string, node: string): number {
  if (text === '') throw new BusUrlError(`--bus: no port after ':' in "${node}"`);
  let port = 0;
  for (const ch of text) {
    if (ch < '0' || ch > '9' || port > 65535) throw new BusUrlError(`--bus: bad port in "${node}"`);
    port = port * 10 + (ch.charCodeAt(0) - 48);
  }
  if (port < 1 || port > 65535) throw new BusUrlError(`--bus: bad port in "${node}"`);
  return port;
}

function parseNode(node: string): ClusterAddress {
  if (node.startsWith('[')) {
    const end = node.indexOf(']');
    const host = end > 1 ? node.slice(1, end) : '';
    const rest = end < 0 ? '' : node.slice(end + 1);
    if (host === '' || [...host].some((ch) => !/[0-9a-fA-F:.]/.test(ch))) {
      throw new BusUrlError(`--bus: bad IPv6 address in "${node}"`);
    }
    if (rest === '') return { host, port: DEFAULT_PORT };
    if (!rest.startsWith(':')) throw new BusUrlError(`--bus: bad node "${node}"`);
    return { host, port: parsePort(rest.slice(1), node) };
  }
  const colon = node.indexOf(':');
  const host = colon < 0 ? node : node.slice(0, colon);
  if (badHost(host)) throw new BusUrlError(`--bus: bad host in "${node}"`);
  return { host, port: colon < 0 ? DEFAULT_PORT : parsePort(node.slice(colon + 1), node) };
}

/** Reads a `redis+cluster://` or `rediss+cluster://` bus (throws BusUrlError). */
export function parseClusterUrl(bus: string): ClusterUrl {
  const scheme = CLUSTER.exec(bus);
  if (!scheme) throw new BusUrlError('--bus: not a redis+cluster:// URL');
  let rest = bus.slice(scheme[0].length);
  const tls = (scheme[1] as string).toLowerCase() === 'rediss';
  // Where the node list ends: a path or a query (neither can be inside a host).
  let cut = rest.length;
  for (const ch of ['/', '?', '#']) {
    const i = rest.indexOf(ch);
    if (i >= 0 && i < cut) cut = i;
  }
  const tail = rest.slice(cut);
  rest = rest.slice(0, cut);
  if (tail !== '' && tail !== '/' && tail !== '/0') {
    throw new BusUrlError(
      `--bus: a Redis Cluster has database 0 only, and takes no options ("${tail}")`,
    );
  }
  const out: ClusterUrl = { tls, nodes: [] };
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const auth = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = auth.indexOf(':');
    const user = decode(colon < 0 ? auth : auth.slice(0, colon), 'user name');
    if (user !== '') out.username = user;
    if (colon >= 0) out.password = decode(auth.slice(colon + 1), 'password');
  }
  if (rest === '') throw new BusUrlError('--bus: redis+cluster:// needs at least one host:port');
  for (const node of rest.split(',')) out.nodes.push(parseNode(node));
  return out;
}

/** The URL node-redis is given for one node of the list (credentials go apart). */
export function nodeUrl(c: ClusterUrl, node: ClusterAddress): string {
  const host = node.host.includes(':') ? `[${node.host}]` : node.host;
  return `${c.tls ? 'rediss' : 'redis'}://${host}:${node.port}`;
}
