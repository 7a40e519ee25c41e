import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Config } from './config.ts';
import { frameworkErrorResponse } from './errors/http.ts';
import { parley, type ParleyHandle, type ParleyOptions } from './plugin.ts';

export type BuildOptions = Omit<ParleyOptions, 'config'>;

function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = frameworkErrorResponse(error);
  void reply.code(status).send(body);
}

/** The standalone server: Parley at the root of its own Fastify instance. It does not listen; main.ts does. */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: config.logLevel, redact: ['req.headers.authorization'] },
    // Per-request logs at debug level only (plugin.ts): at info they would dominate the hot path.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.bodyBytes,
    // User ids are up to 128 characters (the token's sub); Fastify's default of 100 would answer 414 for them.
    routerOptions: { maxParamLength: 512 },
    // A URL the router cannot even read still answers the contract's error body.
    frameworkErrors: answerFrameworkError,
    trustProxy: true,
    // While closing, Parley answers new requests itself: 503 in the standard error body (plugin.ts), not Fastify's.
    return503OnClosing: false,
    // Opening a fresh PGlite directory and migrating it can take longer than Fastify's default 10 s on a busy machine.
    pluginTimeout: 120_000,
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
