import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4 } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden, unauthorized } from '../errors/codes.ts';
import type { DialectGate } from './dialects.config.ts';

/** The header that carries a dialect's key (`Authorization: Bearer <key>` works too). */
export const GATE_HEADER = 'x-parley-key';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** The key a request presents: `X-Parley-Key`, else a bearer token; null for none. */
function presentedKey(request: FastifyRequest): string | null {
  const header = request.headers[GATE_HEADER];
  if (typeof header === 'string' && header.trim() !== '') {
    return header.trim();
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1] ?? null;
}

function allowList(gate: DialectGate): BlockList | null {
  if (gate.allow === null) {
    return null;
  }
  const list = new BlockList();
  for (const network of gate.allow) {
    list.addSubnet(network.address, network.prefix, network.family);
  }
  return list;
}

/** Whether `ip` (as Fastify computed it, PARLEY_TRUST_PROXY applied) is in the list; `::ffff:a.b.c.d` as IPv4. */
function isAllowed(list: BlockList, ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (mapped !== undefined && isIPv4(mapped)) {
    return list.check(mapped, 'ipv4');
  }
  try {
    return list.check(ip, isIPv4(ip) ? 'ipv4' : 'ipv6');
  } catch {
    // Not an address at all (a socket without one): nothing to allow.
    return false;
  }
}

/**
 * A dialect's gate (docs/dialects/README.md, "Gate"), as an `onRequest` hook on the scope the dialect is mounted
 * in: a client outside the allowed networks gets 403, a missing or wrong key 401, each thrown so that the
 * dialect's own error handler answers it in the dialect's body shape and logs it. Keys are compared as SHA-256
 * digests with `timingSafeEqual`: the time taken says nothing about the key. Health checks stay open.
 * No gate (null): nothing is installed and the dialect is as open as its original.
 */
export function installDialectGate(scope: FastifyInstance, dialect: string, gate: DialectGate | null): void {
  if (gate === null) {
    return;
  }
  const list = allowList(gate);
  const expected = gate.key === null ? null : digest(gate.key);
  scope.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.healthCheck) {
      return;
    }
    if (list !== null && !isAllowed(list, request.ip)) {
      request.log.warn({ dialect, ip: request.ip }, 'dialect gate: address not allowed');
      throw forbidden(`${dialect}: this address may not use this API`);
    }
    if (expected === null) {
      return;
    }
    const presented = presentedKey(request);
    if (presented === null || !timingSafeEqual(digest(presented), expected)) {
      request.log.warn({ dialect, ip: request.ip, presented: presented !== null }, 'dialect gate: bad key');
      void reply.header('www-authenticate', `Bearer realm="parley-${dialect}"`);
      throw unauthorized(
        presented === null
          ? `${dialect}: this API needs a key (X-Parley-Key or Authorization: Bearer)`
          : `${dialect}: the key is not valid`,
      );
    }
  });
}

/** Mounts a dialect in a scope of its own behind its gate: the gate covers that dialect's routes and no others. */
export async function registerGated(
  app: FastifyInstance,
  dialect: string,
  gate: DialectGate | null,
  mount: (scope: FastifyInstance) => Promise<void>,
): Promise<void> {
  await app.register(async (scope) => {
    installDialectGate(scope, dialect, gate);
    await mount(scope);
  });
}
