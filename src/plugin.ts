import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, onResponseHookHandler } from 'fastify';
import type { Kysely } from 'kysely';
import type { Actor } from './auth/actor.ts';
import { createAuthenticate } from './auth/auth.hook.ts';
import { createTokenVerifier } from './auth/jwt.ts';
import { chatRoutes } from './chats/chat.routes.ts';
import { withJsonApiOptions, type JsonApiOptions } from './jsonapi/jsonapi.config.ts';
import { type Config } from './config.ts';
import type { Context } from './context.ts';
import { DatabaseBudget } from './db/budget.ts';
import type { Store } from './db/connect.ts';
import type { Database } from './db/database.ts';
import { installErrorHandling } from './errors/http.ts';
import { healthRoutes } from './health/health.routes.ts';
import { installJsonApi } from './jsonapi/jsonapi.plugin.ts';
import { createRateLimit } from './limits/rate.hook.ts';
import { relationshipRoutes } from './jsonapi/jsonapi.routes.ts';
import { deletionRoutes } from './members/deletion.routes.ts';
import { memberRoutes } from './members/member.routes.ts';
import type { Metrics } from './metrics/metrics.registry.ts';
import { metricsRoutes } from './metrics/metrics.routes.ts';
import { messageRoutes } from './messages/message.routes.ts';
import { pinRoutes } from './messages/pin.routes.ts';
import { reactionRoutes } from './messages/reaction.routes.ts';
import { receiptRoutes } from './messages/receipt.routes.ts';
import { settingsRoutes } from './chats/settings.routes.ts';
import { threadRoutes } from './messages/thread.routes.ts';
import { searchRoutes } from './search/search.routes.ts';
import type { Bus } from './realtime/bus.ts';
import { avitoRoutes } from './dialects/avito/avito.routes.ts';
import { registerGated } from './dialects/dialect.gate.ts';
import { drfRoutes } from './dialects/drf/drf.routes.ts';
import { registerInstabug } from './dialects/instabug/instabug.routes.ts';
import { sourceloopRoutes } from './dialects/sourceloop/sourceloop.routes.ts';
import { demoRoutes } from './demo/demo.routes.ts';
import { Gateway } from './realtime/gateway.ts';
import { registerWebSocket, streamRoutes } from './realtime/stream.routes.ts';
import { openRuntime } from './runtime.ts';
import { userRoutes } from './users/user.routes.ts';
import { blockRoutes } from './users/block.routes.ts';
import { moderationRoutes } from './moderation/moderation.routes.ts';
import { reportRoutes } from './moderation/report.routes.ts';
import { fileDownloadRoutes, fileRoutes } from './attachments/file.routes.ts';
import { webhookRoutes } from './webhooks/webhook.routes.ts';
import { installDraining } from './http/draining.ts';
import { registerOpenApi } from './http/openapi.ts';
import { registerAsyncApi } from './http/asyncapi.ts';
import { provisionActor } from './users/user.service.ts';
import { createSerializerCompiler } from './http/serialization.ts';
import { createValidatorCompiler } from './http/validation.ts';

export interface ParleyOptions {
  config: Config;
  /** A store to use instead of opening one from `config.database`; the caller keeps owning (and closes) it. */
  store?: Store;
  /** Or a Kysely instance of the host application's, on PostgreSQL; Parley's tables are migrated into it. */
  db?: Kysely<Database>;
  /** Publish /openapi.json, the explorer at /docs and /explorer, and the stream's /asyncapi.json (default true). */
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

/** Where the stream's routes are, under the plugin's own prefix (the stream is part of API v1). */
const STREAM_PREFIX = '/v1';

/**
 * One deadline for all the database work of each request (DB_DEADLINE_MS; `src/db/budget.ts`): waiting for a
 * connection, connecting, queries, waiting for the batch that writes a send. Everything the request does after this
 * hook (the later hooks, body parsing, which Fastify runs in the request's async context, the handler) runs with its
 * budget, which the database layer finds without its being passed around. Streams are left out: they live long, and
 * each of their database operations gets a deadline of its own.
 */
function installDatabaseDeadline(app: FastifyInstance, ms: number): void {
  if (ms <= 0) {
    return;
  }
  const budgets = new WeakMap<FastifyRequest, DatabaseBudget>();
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.config.stream) {
      done();
      return;
    }
    const budget = new DatabaseBudget(ms);
    budgets.set(request, budget);
    budget.run(done);
  });
  // Work the request started and left running (an event to publish) is no longer its own.
  app.addHook('onResponse', (request, _reply, done) => {
    budgets.get(request)?.finish();
    done();
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
  const runtime = await openRuntime(config, {
    log: app.log,
    ...(options.store ? { store: options.store } : {}),
    ...(options.db ? { db: options.db } : {}),
  });
  app.addHook('onClose', async () => {
    await runtime.close();
  });
  const { store, ctx, bus, metrics } = runtime;
  const gateway = new Gateway(ctx, bus, config.realtime, store.health);
  gateway.start();
  const handle: ParleyHandle = { store, ctx, bus, gateway, metrics };
  app.decorate('parley', handle);
  options.onHandle?.(handle);
  app.decorateRequest('actor', null);

  // Bodies are JSON only: Fastify's built-in text/plain parser would turn a wrong Content-Type into a 400, not a 415.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(createValidatorCompiler());
  app.setSerializerCompiler(createSerializerCompiler());
  installErrorHandling(app, config.nodeEnv === 'development', store.health);
  installDatabaseDeadline(app, store.deadlineMs);
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
  // A line per request for a person reading pretty logs; for collectors (JSON), at debug only.
  const requestsAtInfo = config.log.format === 'pretty';
  app.addHook('onResponse', async (request, reply) => {
    if (metrics && request.is404) {
      metrics.unmatched(request.method, reply.statusCode, reply.elapsedTime / 1000);
    }
    if (requestsAtInfo) {
      request.log.info(
        `${request.method} ${request.url} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)} ms`,
      );
    } else {
      request.log.debug(
        { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
        'request completed',
      );
    }
  });

  if (options.openapi !== false) {
    await registerOpenApi(app, {
      rateLimited: rateLimit !== null,
      jsonapi: jsonApiRuntime
        ? (spec) => !jsonApiRuntime.presentation.excluded(spec.type, spec.operation)
        : null,
    });
    await registerAsyncApi(app, { streamPrefix: STREAM_PREFIX, limits: config.realtime });
  }

  const provision = (actor: Actor) => provisionActor(ctx, actor);
  const authenticate = createAuthenticate(verifier, provision);
  await app.register(healthRoutes, { store });
  if (metrics) {
    await app.register(metricsRoutes, { metrics, access: config.metrics });
  }
  // The demo page at the root, and outside production the token endpoint it signs in with (docs/client.md, "Demo page").
  if (config.demo.enabled) {
    await app.register(demoRoutes, { config });
  }
  // The stream takes the token from the query too: browsers cannot set headers on WebSocket or EventSource.
  await app.register(streamRoutes, {
    prefix: STREAM_PREFIX,
    gateway,
    metrics,
    authenticate: createAuthenticate(verifier, provision, { allowQueryToken: true }),
  });
  // Downloads through signed links: no token, so that `<img src>` works (docs/files.md).
  await app.register(fileDownloadRoutes, { ctx });
  await app.register(
    async (v1) => {
      // Every /v1 route checks the caller first, before its body is even parsed.
      v1.addHook('onRequest', authenticate);
      for (const routes of [
        userRoutes,
        deletionRoutes,
        chatRoutes,
        settingsRoutes,
        memberRoutes,
        messageRoutes,
        reactionRoutes,
        pinRoutes,
        receiptRoutes,
        threadRoutes,
        searchRoutes,
        blockRoutes,
        moderationRoutes,
        reportRoutes,
        fileRoutes,
        webhookRoutes,
      ]) {
        await v1.register(routes, { ctx });
      }
      if (jsonApiRuntime) {
        await v1.register(relationshipRoutes, { ctx, runtime: jsonApiRuntime });
      }
    },
    { prefix: '/v1' },
  );

  // Compatibility dialects (docs/dialects): no JWT, so outside the /v1 scope, each in a tenant of its own, each
  // behind its optional gate (PARLEY_DIALECT_<NAME>_KEY / _ALLOW; open when unset, as the originals were).
  const gates = config.dialectGates;
  if (config.dialects.includes('avito')) {
    await registerGated(app, 'avito', gates.avito, async (scope) => {
      await scope.register(avitoRoutes, { ctx });
    });
  }
  if (config.dialects.includes('drf')) {
    await registerGated(app, 'drf', gates.drf, async (scope) => {
      await scope.register(drfRoutes, { ctx, outages: store.health });
    });
  }
  // Instabug: the application token in the path is the capability; no JWT.
  if (config.dialects.includes('instabug')) {
    await registerGated(app, 'instabug', gates.instabug, async (scope) => {
      await registerInstabug(scope, {
        ctx,
        exposeStack: config.nodeEnv === 'development',
        outages: store.health,
      });
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
