import { createLogger } from './logging/logger.ts';
import Fastify, {
  LogController,
  type ConnectionError,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { maxHeaderSize, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from './config.ts';
import { clientErrorResponse, frameworkErrorResponse } from './errors/http.ts';
import type { TrustProxy } from './http/http.config.ts';
import { parley, type ParleyHandle, type ParleyOptions } from './plugin.ts';

export type BuildOptions = Omit<ParleyOptions, 'config'>;

function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = frameworkErrorResponse(error);
  void reply.code(status).send(body);
}

/** What Node's HTTP server keeps on a connection: the answer being written, and the parser with its last request. */
interface HttpSocket extends Socket {
  _httpMessage?: ServerResponse | null;
  parser?: { incoming?: IncomingMessage | null } | null;
}

/**
 * Node's `clientError`: a connection whose request Node refuses before Fastify sees it (not HTTP, headers over the
 * size limit, not received in time). It is answered in the contract's error body where HTTP still allows an answer
 * (nothing of an answer to this request written yet), then closed.
 */
function createClientErrorHandler(config: Config) {
  return function answerClientError(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
    const { _httpMessage: response = null, parser } = socket as HttpSocket;
    const incoming = parser?.incoming ?? null;
    // A request whose headers were read and whose body is still coming; Node detaches a finished answer from the
    // socket, so one with no answer attached here has been answered already (before its body was read).
    const reading = incoming !== null && !incoming.complete;
    const answerable = response === null ? !reading : !response.headersSent;
    const answer = clientErrorResponse(error, {
      stage: reading ? 'body' : 'headers',
      maxHeaderBytes: maxHeaderSize,
      headersTimeoutMs: config.http.headersTimeoutMs,
      requestTimeoutMs: config.http.requestTimeoutMs,
    });
    this.log.debug({ code: error.code, status: answer?.status ?? null }, 'connection refused before routing');
    if (answer && answerable && socket.writable) {
      const body = JSON.stringify(answer.body);
      socket.write(
        `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n` +
          `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
          `connection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}

/**
 * HTTP/1.1 requires a Host header (RFC 9112, 3.2). Node would refuse a request without one itself, with an empty
 * 400; the standalone server turns that check off and refuses it here, in the contract's error body.
 */
async function requireHost(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
    await reply
      .code(400)
      .header('connection', 'close')
      .send({ error: { code: 'invalid_request', message: 'host: the Host header is required in HTTP/1.1' } });
  }
}

/**
 * How often Node looks for requests past their headers or request timeout: a quarter of the shorter one, at most
 * a second (Node's own default, 30 s, would let a request live up to 30 s past its timeout).
 */
const timeoutCheckMs = (http: Config['http']) =>
  Math.min(1000, Math.max(25, Math.floor(Math.min(http.headersTimeoutMs, http.requestTimeoutMs) / 4)));

/**
 * PARLEY_TRUST_PROXY as Fastify takes it. A number of hops becomes a function: Fastify reads a bare number as "trust
 * nobody", since such a count trusts whatever connects (docs/configuration.md says where that is safe).
 */
function fastifyTrustProxy(
  trust: TrustProxy,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust !== 'number') {
    return trust;
  }
  return (_address, hop) => hop < trust;
}

/** The standalone server: Parley at the root of its own Fastify instance. It does not listen; main.ts does. */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: createLogger(config.log),
    // Per-request lines at debug level only in JSON (plugin.ts): at info they would dominate the hot path; a person
    // reading pretty logs at a terminal sees one line per request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.bodyBytes,
    // User ids are up to 128 characters (the token's sub); Fastify's default of 100 would answer 414 for them.
    routerOptions: { maxParamLength: 512 },
    // A URL the router cannot even read still answers the contract's error body.
    frameworkErrors: answerFrameworkError,
    // And so does a request Node refuses before Fastify sees it.
    clientErrorHandler: createClientErrorHandler(config),
    // Slow senders (docs/configuration.md): the headers, then the whole request, must arrive in time (408), and an
    // idle kept-alive connection is closed. Only the receiving of a request is bounded, never an answer or a
    // stream: an upgraded WebSocket is no longer an HTTP request, and an SSE request is complete once read.
    requestTimeout: config.http.requestTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    http: {
      requireHostHeader: false,
      headersTimeout: config.http.headersTimeoutMs,
      requestTimeout: config.http.requestTimeoutMs,
      connectionsCheckingInterval: timeoutCheckMs(config.http),
    },
    // The client address (request.ip: the per-address rate limit, logs) is the connection's unless PARLEY_TRUST_PROXY
    // names the proxies in front: otherwise any client could pick its own with X-Forwarded-For.
    trustProxy: fastifyTrustProxy(config.http.trustProxy),
    // While closing, Parley answers new requests itself: 503 in the standard error body (plugin.ts), not Fastify's.
    return503OnClosing: false,
    // Opening a fresh PGlite directory and migrating it can take longer than Fastify's default 10 s on a busy machine.
    pluginTimeout: 120_000,
  });
  app.addHook('onRequest', requireHost);
  // An expectation other than 100-continue would get Node's empty 417: it is ignored instead (RFC 9110, 10.1.1
  // allows either), and the request is answered as if it had none.
  app.server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    app.server.emit('request', request, response);
  });
  let handle: ParleyHandle | undefined;
  await app.register(parley, {
    config,
    ...options,
    onHandle: (h) => {
      handle = h;
      options.onHandle?.(h);
    },
  });
  if (handle) {
    app.decorate('parley', handle);
  }
  return app;
}
