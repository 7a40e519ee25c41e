import { isIP } from 'node:net';
import { ConfigError, integer, read, type Env } from '../env.ts';

/**
 * Whose `X-Forwarded-For` the standalone server believes (docs/configuration.md): nobody's (`false`), everybody's
 * (`true`: the left-most address, whatever the client wrote there), the nearest `n` hops', or those of the proxies
 * at these addresses and networks. What Fastify's `trustProxy` takes.
 */
export type TrustProxy = boolean | number | string[];

/** The standalone server's HTTP settings; an application that embeds Parley sets its own Fastify instance's. */
export interface HttpConfig {
  /** PARLEY_HEADERS_TIMEOUT_MS: a request whose headers have not all arrived this long after it began gets 408. */
  headersTimeoutMs: number;
  /** PARLEY_REQUEST_TIMEOUT_MS: the same for the whole request, body included (not its answer, nor a stream). */
  requestTimeoutMs: number;
  /** PARLEY_KEEP_ALIVE_TIMEOUT_MS: how long a connection may stay open with no request on it. */
  keepAliveTimeoutMs: number;
  /** PARLEY_TRUST_PROXY: whose forwarded client address `request.ip` takes; by default nobody's. */
  trustProxy: TrustProxy;
}

/** proxy-addr's names for the loopback, link-local and private (unique local) networks. */
const NETWORK_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** One entry of an address list: an address, an address/prefix, or one of proxy-addr's network names. */
function isAddressOrNetwork(entry: string): boolean {
  if (NETWORK_NAMES.includes(entry)) {
    return true;
  }
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) {
    return false;
  }
  if (prefix === undefined) {
    return true;
  }
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * PARLEY_TRUST_PROXY: unset, `false` or `0` trusts no proxy (the client address is the connection's); a whole
 * number trusts that many hops; `true` trusts every hop; otherwise a comma-separated list of addresses, networks
 * (`10.0.0.0/8`) and the names `loopback`, `linklocal`, `uniquelocal`.
 */
function trustProxy(env: Env): TrustProxy {
  const name = 'PARLEY_TRUST_PROXY';
  const raw = read(env, name);
  if (raw === undefined || raw.toLowerCase() === 'false') {
    return false;
  }
  if (raw.toLowerCase() === 'true') {
    return true;
  }
  if (/^\d+$/.test(raw)) {
    const hops = integer(env, name, 0, 0, 100);
    return hops === 0 ? false : hops;
  }
  const entries = raw.split(',').map((entry) => entry.trim());
  const bad = entries.find((entry) => !isAddressOrNetwork(entry));
  if (bad !== undefined) {
    throw new ConfigError(
      name,
      'must be true, false, a number of hops, or a comma-separated list of addresses and networks ' +
        `(10.0.0.1, 10.0.0.0/8, loopback), got "${bad}"`,
    );
  }
  return entries;
}

export function httpConfig(env: Env): HttpConfig {
  const headersTimeoutMs = integer(env, 'PARLEY_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = integer(env, 'PARLEY_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    // Node refuses it too: the headers are part of the request.
    throw new ConfigError(
      'PARLEY_HEADERS_TIMEOUT_MS',
      `must not be longer than PARLEY_REQUEST_TIMEOUT_MS (${requestTimeoutMs}), got ${headersTimeoutMs}`,
    );
  }
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: integer(env, 'PARLEY_KEEP_ALIVE_TIMEOUT_MS', 72_000, 100, 3_600_000),
    trustProxy: trustProxy(env),
  };
}
