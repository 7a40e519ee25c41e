import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Context } from '../../context.ts';
import type { OutageReporter } from '../../errors/database.ts';
import { acceptDrfBodies } from './drf.body.ts';
import { drfChatRoutes } from './drf.chat.routes.ts';
import { drfUserRoutes } from './drf.user.routes.ts';
import { openDrf } from './drf.user.operations.ts';

export interface DrfOptions {
  ctx: Context;
  /** The tenant the DRF users and rooms live in (default `drf`). */
  tenant?: string;
  /** Where database outages are reported (once each, not per request). */
  outages?: OutageReporter;
}

/**
 * The DRF chat (docs/dialects/drf.md): users with a profile status, chatrooms (the tenant's public groups, and direct
 * chats) numbered by the chat number, sends answered with a task id (stored, or failed, before the answer), seen
 * state from the read cursor. Bodies come as JSON, forms or multipart, as DRF parses them. The user views and the
 * chat views answer errors in shapes of their own, so each is a scope of its own.
 */
export const drfRoutes: FastifyPluginAsyncTypebox<DrfOptions> = async (
  app,
  { ctx, tenant = 'drf', outages },
) => {
  const drf = await openDrf(ctx, tenant);
  await acceptDrfBodies(app);
  await app.register(drfUserRoutes, { drf, outages });
  await app.register(drfChatRoutes, { drf, outages });
};
