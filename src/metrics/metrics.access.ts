import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { MetricsConfig } from './metrics.config.ts';

/** Loopback, private and link-local networks, IPv4 and IPv6: addresses the public internet does not route to. */
const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['127.0.0.0', 8],
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['169.254.0.0', 16],
  // Carrier-grade NAT space, also what some cluster networks and VPNs hand out.
  ['100.64.0.0', 10],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv6');
}

export function isPrivateAddress(address: string | undefined): boolean {
  if (address === undefined) {
    return false;
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) {
    return PRIVATE.check(mapped, 'ipv4');
  }
  if (isIPv4(address)) {
    return PRIVATE.check(address, 'ipv4');
  }
  return isIPv6(address) && PRIVATE.check(address, 'ipv6');
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Compares in constant time (over digests, so the lengths match): the token's length does not leak either. */
function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** What a scrape brings along that decides whether it may read. */
export interface Scraper {
  authorization: string | undefined;
  /** The TCP peer's address, not a forwarded one: headers can say anything. */
  peerAddress: string | undefined;
  /** It carries Forwarded or X-Forwarded-For: it came through a proxy, maybe from anywhere. */
  forwarded: boolean;
}

/**
 * Who may read the metrics: with a token, whoever sends it (`unauthorized` otherwise); without one, under `private`,
 * peers on loopback or private networks that did not come through a proxy (`hidden` otherwise: answered like a
 * route that does not exist), and under `any`, everyone.
 */
export function metricsAccess(
  config: MetricsConfig,
  scraper: Scraper,
): 'allowed' | 'unauthorized' | 'hidden' {
  if (config.token !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(scraper.authorization ?? '');
    return match?.[1] !== undefined && sameToken(match[1], config.token) ? 'allowed' : 'unauthorized';
  }
  if (config.allow === 'any') {
    return 'allowed';
  }
  return !scraper.forwarded && isPrivateAddress(scraper.peerAddress) ? 'allowed' : 'hidden';
}
