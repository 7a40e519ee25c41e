import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { BlockList } from 'node:net';
import type { Config } from '../config.ts';
import { notFound } from '../errors/codes.ts';
import { DevTokenBody, DevTokenView } from './demo.schema.ts';
import { clientBundle, DEMO_FILES, devToken, readDemoFile } from './demo.service.ts';

export interface DemoOptions {
  config: Config;
}

/** Scripts and styles come from this server only; the stream is a WebSocket to it. */
const PAGE_HEADERS = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; " +
    "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
};

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** An address of this machine's loopback interface, IPv4, IPv6 or IPv4-mapped IPv6. */
function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) {
    return false;
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) {
    return LOOPBACK.check(mapped, 'ipv4');
  }
  return LOOPBACK.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
}

/**
 * A client on this machine: the connection comes from loopback (its own address, never one from a header) and did
 * not come through a proxy, which could be passing on anyone's request.
 */
function fromThisMachine(request: FastifyRequest): boolean {
  const proxied = request.headers.forwarded !== undefined || request.headers['x-forwarded-for'] !== undefined;
  return !proxied && isLoopbackAddress(request.socket.remoteAddress);
}

/**
 * The demo chat page (docs/client.md, "Demo page"): `/` and its files under `/demo/`, and outside production
 * `POST /dev/token`, which signs a token for any user id so the page can sign in as anyone, for loopback clients.
 */
export const demoRoutes: FastifyPluginAsyncTypebox<DemoOptions> = async (app, { config }) => {
  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    const [pathname = '', query] = request.url.split('?');
    // Relative links need the trailing slash: /chat → /chat/ when Parley is mounted under a prefix.
    if (!pathname.endsWith('/')) {
      return reply.redirect(`${pathname}/${query === undefined ? '' : `?${query}`}`);
    }
    return reply
      .headers(PAGE_HEADERS)
      .type('text/html; charset=utf-8')
      .send(await readDemoFile('index.html'));
  });

  app.get('/demo/parley-client.js', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .headers(PAGE_HEADERS)
      .type('text/javascript; charset=utf-8')
      .send(await clientBundle()),
  );

  app.get<{ Params: { file: string } }>('/demo/:file', { schema: { hide: true } }, async (request, reply) => {
    const type = Object.hasOwn(DEMO_FILES, request.params.file) ? DEMO_FILES[request.params.file] : undefined;
    if (type === undefined) {
      throw notFound(`no demo file ${request.params.file}`);
    }
    return reply
      .headers(PAGE_HEADERS)
      .type(type)
      .send(await readDemoFile(request.params.file));
  });

  if (config.demo.devTokens) {
    app.post(
      '/dev/token',
      {
        schema: { hide: true, body: DevTokenBody, response: { 200: DevTokenView } },
        // A token for anyone is for the developer at this machine only: to any other client, before its body is
        // read, the route answers exactly as a path without one (the demo page then asks for a token instead).
        onRequest: async (request) => {
          if (!fromThisMachine(request)) {
            throw notFound(`no route for ${request.method} ${request.url.split('?')[0]}`);
          }
        },
      },
      (request) => devToken(config.jwt, request.body),
    );
  }
};
