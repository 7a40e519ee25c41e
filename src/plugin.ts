import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyPluginAsync, onResponseHookHandler } from 'fastify';
import type { Kysely } from 'kysely';
import type { Actor } from './auth/actor.ts';
import { createAuthenticate } from './auth/auth.hook.ts';
import { createTokenVerifier } from './auth/jwt.ts';
import { chatRoutes } from './chats/chat.routes.ts';
import { withJsonApiOptions, type JsonApiOptions } from './jsonapi/jsonapi.config.ts';
import { type Config } from './config.ts';
import type { Context } from './context.ts';
import { borrowStore, openStore, type Store } from './db/connect.ts';
import type { Database } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { scheduleMaintenance } from './db/maintenance.ts';
import { AppError } from './errors/codes.ts';
import { installErrorHandling } from './errors/http.ts';
import { healthRoutes } from './health/health.routes.ts';
import { installJsonApi } from './jsonapi/jsonapi.plugin.ts';
import { createRateLimit } from './limits/rate.hook.ts';
import { relationshipRoutes } from './jsonapi/jsonapi.routes.ts';
import { memberRoutes } from './members/member.routes.ts';
import { HistoryCache } from './messages/history.cache.ts';
import { MessageBatcher } from './messages/message.batcher.ts';
import { Metrics } from './metrics/metrics.registry.ts';
import { metricsRoutes } from './metrics/metrics.routes.ts';
import { messageRoutes } from './messages/message.routes.ts';
import { searchRoutes } from './search/search.routes.ts';
import type { Bus } from './realtime/bus.ts';
import { createBus } from './realtime/create-bus.ts';
import { avitoRoutes } from './dialects/avito/avito.routes.ts';
import { drfRoutes } from './dialects/drf/drf.routes.ts';
import { registerInstabug } from './dialects/instabug/instabug.routes.ts';
import { sourceloopRoutes } from './dialects/sourceloop/sourceloop.routes.ts';
import { demoRoutes } from './demo/demo.routes.ts';
import { Gateway } from './realtime/gateway.ts';
import { registerWebSocket, streamRoutes } from './realtime/stream.routes.ts';
import { userRoutes } from './users/user.routes.ts';
import { KnownUsers, provisionActor } from './users/user.service.ts';
import { createValidatorCompiler } from './validation.ts';

export interface ParleyOptions {
  config: Config;
  /** A store to use instead of opening one from `config.database`; the caller keeps owning (and closes) it. */
  store?: Store;
  /** Or a Kysely instance of the host application's, on PostgreSQL; Parley's tables are migrated into it. */
  db?: Kysely<Database>;
  /** Publish /openapi.json and the explorer at /docs and /explorer (default true). */
  openapi?: boolean;
  /** JSON:API settings over the config's (`config.jsonapi`, from the PARLEY_JSONAPI* variables). */
  jsonapi?: JsonApiOptions;
  /** Called once the plugin has its store and context: how the standalone app (and tests) reach them. */
  onHandle?: (handle: ParleyHandle) => void;
}

export interface ParleyHandle {
  store: Store;
  ctx: Context;
  bus: Bus;
  gateway: Gateway;
  /** This app's metrics; null with PARLEY_METRICS=false. */
  metrics: Metrics | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    parley: ParleyHandle;
  }
}

async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Parley API',
        version: '1.0.0',
        description:
          'Chat between users and groups: chats, members, messages with gapless per-chat seq, unread counts.',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/explorer', { schema: { hide: true } }, async (request, reply) =>
    reply.redirect(`${request.url.replace(/\/explorer(\?.*)?$/, '')}/docs`),
  );
}

/**
 * Shutdown (README, "Behaviour worth knowing"): from the moment the app starts closing, a request that arrives is
 * answered 503 `unavailable` with `Retry-After` (a health check 503 in its own shape, so that a balancer stops
 * sending), and every answer,
 * those of requests already in flight included, carries `Connection: close`. Without it a keep-alive connection
 * whose request was in flight stays open after its answer and holds the server's close until the client's
 * keep-alive timeout.
 */
function installDraining(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!closing) {
      return;
    }
    if (request.routeOptions.config.healthCheck) {
      return reply.code(503).send({ status: 'shutting down' });
    }
    throw new AppError('unavailable', 'the server is shutting down; retry, another instance will answer');
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) {
      void reply.header('connection', 'close');
    }
    done(null, payload);
  });
}

/**
 * Parley as a Fastify plugin: every route, its error handling and its database, encapsulated so that a host
 * application can mount it under a prefix beside routes of its own.
 */
export const parley: FastifyPluginAsync<ParleyOptions> = async (app, options) => {
  const { config } = options;
  // Checked before anything is opened: a bad option is a configuration error, not a half-started plugin.
  const jsonapi = options.jsonapi ? withJsonApiOptions(config.jsonapi, options.jsonapi) : config.jsonapi;
  const owned = !options.store && !options.db;
  const store = options.store ?? (options.db ? borrowStore(options.db) : await openStore(config.database));
  store.health.logTo(app.log);
  try {
    if (config.migrate) {
      const { applied } = await migrateToLatest(store.unbounded);
      if (applied.length > 0) {
        app.log.info({ applied }, 'database migrated');
      }
    }
  } catch (error) {
    if (owned) {
      await store.close();
    }
    throw error;
  }

  const bus = createBus(config.bus, config.database, store.db, app.log, store.health);
  try {
    await bus.start();
  } catch (error) {
    if (owned) {
      await store.close();
    }
    throw new Error(`could not start the ${config.bus.kind} event bus: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const maintenance = store.kind === 'pglite' ? scheduleMaintenance(store.db, app.log) : null;
  app.addHook('onClose', async () => {
    if (maintenance) {
      clearInterval(maintenance);
    }
    await bus.close();
    if (owned) {
      await store.close();
    }
  });
  const metrics = config.metrics.enabled
    ? new Metrics({ engine: store.kind, bus: bus.kind, pool: store.pool })
    : null;
  const sends = new MessageBatcher(store.db, {
    // PGlite has one connection: one batch at a time. On a server, a few overlap to use the pool.
    maxInFlight: store.kind === 'pglite' ? 1 : 4,
    maxBatch: 500,
    ...(metrics ? { observe: metrics.sendBatch } : {}),
  });
  const history = config.historyCacheBytes > 0 ? new HistoryCache(config.historyCacheBytes) : null;
  if (metrics) {
    metrics.countSendQueue(() => ({ queued: sends.queued, writing: sends.writing }));
    if (history) {
      metrics.countHistoryCache(history);
    }
    bus.observeLag(metrics.busDelivered);
  }
  const ctx: Context = {
    db: store.db,
    limits: config.limits,
    events: bus,
    log: app.log,
    sends,
    ...(history ? { history } : {}),
  };
  const gateway = new Gateway(ctx, bus, config.realtime, store.health);
  gateway.start();
  const handle: ParleyHandle = { store, ctx, bus, gateway, metrics };
  app.decorate('parley', handle);
  options.onHandle?.(handle);
  app.decorateRequest('actor', null);

  // Bodies are JSON only: Fastify's built-in text/plain parser would turn a wrong Content-Type into a 400, not a 415.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(createValidatorCompiler());
  installErrorHandling(app, config.nodeEnv === 'development', store.health);
  const verifier = await createTokenVerifier(config.jwt);
  await registerWebSocket(app);
  // Before any route: it attaches each native route's JSON:API face as the routes are added.
  const jsonApiRuntime = installJsonApi(app, ctx, jsonapi);
  installDraining(app);
  // Right after content negotiation (so a JSON:API client gets its 429 as a JSON:API error), before everything
  // else, on every route of the plugin (dialects included) but the health checks.
  const rateLimit = createRateLimit(config.rateLimit, verifier);
  if (rateLimit) {
    app.addHook('onRequest', rateLimit);
  }
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= config.limits.bodyBytes;
    if (metrics) {
      // Each route counts its own answers under its pattern (`/v1/chats/:id/messages`), never the raw URL.
      const record = metrics.requestRecorder(route.url);
      const count: onResponseHookHandler = (request, reply, done) => {
        record(request.method, reply.statusCode, reply.elapsedTime / 1000);
        done();
      };
      const existing = route.onResponse;
      route.onResponse = existing === undefined ? [count] : [...[existing].flat(), count];
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    if (metrics && request.is404) {
      metrics.unmatched(request.method, reply.statusCode, reply.elapsedTime / 1000);
    }
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
      'request completed',
    );
  });

  if (options.openapi !== false) {
    await registerOpenApi(app);
  }

  const known = new KnownUsers();
  const provision = (actor: Actor) => provisionActor(ctx, known, actor);
  const authenticate = createAuthenticate(verifier, provision);
  await app.register(healthRoutes, { store });
  if (metrics) {
    await app.register(metricsRoutes, { metrics, access: config.metrics });
  }
  // The demo page at the root, and outside production the token endpoint it signs in with (README, "Demo page").
  if (config.demo.enabled) {
    await app.register(demoRoutes, { config });
  }
  // The stream takes the token from the query too: browsers cannot set headers on WebSocket or EventSource.
  await app.register(streamRoutes, {
    prefix: '/v1',
    gateway,
    metrics,
    authenticate: createAuthenticate(verifier, provision, { allowQueryToken: true }),
  });
  await app.register(
    async (v1) => {
      // Every /v1 route checks the caller first, before its body is even parsed.
      v1.addHook('onRequest', authenticate);
      for (const routes of [userRoutes, chatRoutes, memberRoutes, messageRoutes, searchRoutes]) {
        await v1.register(routes, { ctx });
      }
      if (jsonApiRuntime) {
        await v1.register(relationshipRoutes, { ctx, runtime: jsonApiRuntime });
      }
    },
    { prefix: '/v1' },
  );

  // Compatibility dialects (README, "Dialects"): no JWT, so outside the /v1 scope, each in a tenant of its own.
  if (config.dialects.includes('avito')) {
    await app.register(avitoRoutes, { ctx });
  }
  if (config.dialects.includes('drf')) {
    await app.register(drfRoutes, { ctx, outages: store.health });
  }
  // Instabug: the application token in the path is the capability; no JWT.
  if (config.dialects.includes('instabug')) {
    await registerInstabug(app, {
      ctx,
      exposeStack: config.nodeEnv === 'development',
      outages: store.health,
    });
  }
  // SourceLoop: the native JWT plus its `permissions`, under SOURCELOOP_BASE_PATH.
  if (config.dialects.includes('sourceloop')) {
    await app.register(sourceloopRoutes, {
      prefix: config.sourceloopBasePath,
      ctx,
      authenticate,
      exposeStack: config.nodeEnv === 'development',
      outages: store.health,
    });
  }
};
