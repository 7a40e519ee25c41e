import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../../context.ts';
import type { OutageReporter } from '../../errors/database.ts';
import { refused, shapeErrors } from '../dialect.errors.ts';
import { emptyJsonIsObject, readBody } from './instabug.body.ts';
import {
  addChat,
  addMessage,
  applicationChat,
  changeMessage,
  createApplication,
  listApplications,
  listChatMessages,
  listChats,
  renameApplication,
  renameChat,
  searchChatMessages,
  showApplication,
  showChat,
  showMessage,
  type InstabugPath,
} from './instabug.operations.ts';

export interface InstabugOptions {
  ctx: Context;
  exposeStack: boolean;
  /** Where database outages are reported (once each, not per request). */
  outages?: OutageReporter;
}

const pathOf = (request: FastifyRequest) => request.params as InstabugPath;

/**
 * The Instabug "chat system" (docs/dialects): applications addressed by token, chats numbered per application,
 * messages per chat, on Parley's tenants, chats and messages. No authentication: the token is the capability.
 * Validation errors answer 422 as Rails does; the body keeps Parley's `{"error": {code, message}}`.
 */
export const instabugRoutes: FastifyPluginAsync<InstabugOptions> = async (
  app,
  { ctx, exposeStack, outages },
) => {
  emptyJsonIsObject(app);
  shapeErrors(app, { exposeStack, outages }, ({ status, body }, error) => ({
    status: refused(error, 'invalid_request') ? 422 : status,
    body,
  }));

  // Applications.
  app.post('/applications', async (request, reply) => {
    const created = await createApplication(ctx, request.body);
    return reply.status(201).send(created);
  });

  app.get('/applications', async (request) => listApplications(ctx, request.query));

  app.get('/applications/:token', async (request) => showApplication(ctx, pathOf(request)));

  const patchApplication = async (request: FastifyRequest) =>
    renameApplication(ctx, pathOf(request), request.body);
  app.patch('/applications/:token', patchApplication);
  app.put('/applications/:token', patchApplication);

  // Chats.
  app.post('/applications/:token/chats', async (request, reply) => {
    const created = await addChat(ctx, pathOf(request), request.body);
    return reply.status(201).send(created);
  });

  app.get('/applications/:token/chats', async (request) => listChats(ctx, pathOf(request), request.query));

  app.get('/applications/:token/chats/:number', async (request) => showChat(ctx, pathOf(request)));

  const patchChat = async (request: FastifyRequest) => renameChat(ctx, pathOf(request), request.body);
  app.patch('/applications/:token/chats/:number', patchChat);
  app.put('/applications/:token/chats/:number', patchChat);

  // Messages: `POST .../chats/<n>` (the seed text) and `POST .../chats/<n>/messages` (the common variant).
  const send = async (request: FastifyRequest, reply: FastifyReply) => {
    const sent = await addMessage(ctx, pathOf(request), request.body);
    return reply.status(201).send(sent);
  };
  app.post('/applications/:token/chats/:number', send);
  app.post('/applications/:token/chats/:number/messages', send);

  app.get('/applications/:token/chats/:number/messages', async (request) =>
    listChatMessages(ctx, pathOf(request), request.query),
  );

  // Search: `.../chats/<n>/search` (the seed text) and `.../chats/<n>/messages/search` (the de-facto table).
  const search = async (request: FastifyRequest) => {
    // The chat first: an unknown token or number is a 404 whatever the body holds.
    const chat = await applicationChat(ctx, pathOf(request));
    return searchChatMessages(ctx, chat, request.query, await readBody(request, ctx.limits.bodyBytes));
  };
  app.get('/applications/:token/chats/:number/search', search);
  app.get('/applications/:token/chats/:number/messages/search', search);

  app.get('/applications/:token/chats/:number/messages/:message', async (request) =>
    showMessage(ctx, pathOf(request)),
  );

  const patchMessage = async (request: FastifyRequest) => changeMessage(ctx, pathOf(request), request.body);
  app.patch('/applications/:token/chats/:number/messages/:message', patchMessage);
  app.put('/applications/:token/chats/:number/messages/:message', patchMessage);
};

/** Mounted at `/api`, `/api/v1` (civilcoder55) and the root (the de-facto table's paths). */
export async function registerInstabug(app: FastifyInstance, options: InstabugOptions): Promise<void> {
  // The system user is a member of every chat of its application: the application's chat count is not one
  // person's, so PARLEY_MAX_CHATS_PER_USER does not apply to it (the members of a chat are still limited).
  const ctx: Context = {
    ...options.ctx,
    limits: { ...options.ctx.limits, chatsPerUser: Number.POSITIVE_INFINITY },
  };
  for (const prefix of ['/api', '/api/v1', '']) {
    await app.register(instabugRoutes, { ...options, ctx, prefix });
  }
}
