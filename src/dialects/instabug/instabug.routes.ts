import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../../context.ts';
import type { OutageReporter } from '../../errors/database.ts';
import { shapeErrors, type ErrorAnswer } from '../dialect.errors.ts';
import { BAD_JSON, installBodyParsers, readBody } from './instabug.body.ts';
import {
  addChat,
  addMessage,
  applicationChat,
  applicationPages,
  changeMessage,
  chatPages,
  createApplication,
  messagePages,
  renameApplication,
  renameChat,
  searchChatMessages,
  showApplication,
  showChat,
  showMessage,
  type InstabugPath,
} from './instabug.operations.ts';
import { sendJsonArray } from './instabug.stream.ts';
import { VIEWS, type Flavour } from './instabug.views.ts';

export interface InstabugOptions {
  ctx: Context;
  exposeStack: boolean;
  /** Where database outages are reported (once each, not per request). */
  outages?: OutageReporter;
}

const pathOf = (request: FastifyRequest) => request.params as InstabugPath;

/**
 * Errors in each original's words. Rails answers a validation failure 422 and a body that is not JSON 400;
 * civilcoder55's API says `{"message": "resource not found"}` for every 404 and `{"<field>": ["<problem>"]}` for a
 * 422; andrewawni's `{"error": "<problem>"}`.
 */
function errorShape(flavour: Flavour) {
  // A message's text is `text` to the services; each original calls it otherwise.
  const textField = flavour === 'rails' ? 'body' : 'message_content';
  return ({ status, body }: ErrorAnswer, error: unknown): { status: number; body: unknown } => {
    const { code } = body.error;
    const message = body.error.message.replace(/^text: /, `${textField}: `);
    const badJson = error instanceof Error && error.message === BAD_JSON;
    const shown = badJson ? 400 : code === 'invalid_request' ? 422 : status;
    if (flavour === 'seed') {
      return { status: shown, body: { error: message } };
    }
    if (shown === 404) {
      return { status: 404, body: { message: 'resource not found' } };
    }
    const field = /^([\w.]+): (.*)$/s.exec(message);
    if (shown === 422 && field) {
      return { status: 422, body: { [field[1]!]: [field[2]!] } };
    }
    return { status: shown, body: { message } };
  };
}

/**
 * The Instabug "chat system" (docs/dialects/instabug.md): applications addressed by token, chats numbered per
 * application, messages per chat, on Parley's tenants, chats and messages, answered in one original's shapes.
 * No authentication: the token is the capability (and the optional dialect gate, if configured, comes first).
 */
export const instabugRoutes: FastifyPluginAsync<InstabugOptions & { flavour: Flavour }> = async (
  app,
  { ctx, exposeStack, outages, flavour },
) => {
  const views = VIEWS[flavour];
  // The OpenAPI document groups the routes by dialect (the routes have no schema of their own).
  app.addHook('onRoute', (route) => {
    route.schema = { tags: ['instabug'], ...route.schema };
  });
  installBodyParsers(app);
  shapeErrors(app, { exposeStack, outages }, errorShape(flavour));

  // Applications.
  app.post('/applications', async (request, reply) => {
    const created = await createApplication(ctx, flavour, request.body);
    return reply.status(201).send(views.createdApplication(created));
  });

  app.get('/applications', async (request, reply) =>
    sendJsonArray(reply, applicationPages(ctx, request.query), views.application),
  );

  app.get('/applications/:token', async (request) =>
    views.application(await showApplication(ctx, pathOf(request))),
  );

  const patchApplication = async (request: FastifyRequest) =>
    views.application(await renameApplication(ctx, flavour, pathOf(request), request.body));
  app.patch('/applications/:token', patchApplication);
  app.put('/applications/:token', patchApplication);

  // Chats.
  app.post('/applications/:token/chats', async (request, reply) => {
    const created = await addChat(ctx, flavour, pathOf(request), request.body);
    return reply.status(201).send(views.createdChat(created));
  });

  app.get('/applications/:token/chats', async (request, reply) =>
    sendJsonArray(reply, chatPages(ctx, pathOf(request), request.query), views.chat),
  );

  app.get('/applications/:token/chats/:number', async (request) =>
    views.chat(await showChat(ctx, pathOf(request))),
  );

  const patchChat = async (request: FastifyRequest) =>
    views.chat(await renameChat(ctx, flavour, pathOf(request), request.body));
  app.patch('/applications/:token/chats/:number', patchChat);
  app.put('/applications/:token/chats/:number', patchChat);

  // Messages: `POST .../chats/<n>` (the seed text) and `POST .../chats/<n>/messages` (both originals).
  const send = async (request: FastifyRequest, reply: FastifyReply) => {
    const sent = await addMessage(ctx, flavour, pathOf(request), request.body);
    return reply.status(201).send(views.createdMessage(sent));
  };
  app.post('/applications/:token/chats/:number', send);
  app.post('/applications/:token/chats/:number/messages', send);

  app.get('/applications/:token/chats/:number/messages', async (request, reply) =>
    sendJsonArray(reply, messagePages(ctx, pathOf(request), request.query), views.message),
  );

  // Search: `.../chats/<n>/search` (andrewawni, the seed text) and `.../chats/<n>/messages/search` (civilcoder55).
  const search = async (request: FastifyRequest) => {
    // The chat first: an unknown token or number is a 404 whatever the body holds.
    const chat = await applicationChat(ctx, pathOf(request));
    const body = await readBody(request, ctx.limits.bodyBytes);
    return (await searchChatMessages(ctx, flavour, chat, request.query, body)).map(views.message);
  };
  app.get('/applications/:token/chats/:number/search', search);
  app.get('/applications/:token/chats/:number/messages/search', search);

  app.get('/applications/:token/chats/:number/messages/:message', async (request) =>
    views.message(await showMessage(ctx, pathOf(request))),
  );

  const patchMessage = async (request: FastifyRequest) =>
    views.message(await changeMessage(ctx, flavour, pathOf(request), request.body));
  app.patch('/applications/:token/chats/:number/messages/:message', patchMessage);
  app.put('/applications/:token/chats/:number/messages/:message', patchMessage);
};

/** Where each original is mounted, and in whose shapes it answers. */
const MOUNTS: [prefix: string, flavour: Flavour][] = [
  // The seed text and andrewawni/chat_system.
  ['/api', 'seed'],
  // civilcoder55's Rails API, and the seed text's table of de-facto paths (the same shapes, at the root).
  ['/api/v1', 'rails'],
  ['', 'rails'],
];

export async function registerInstabug(app: FastifyInstance, options: InstabugOptions): Promise<void> {
  // The system user is a member of every chat of its application: the application's chat count is not one
  // person's, so PARLEY_MAX_CHATS_PER_USER does not apply to it (the members of a chat are still limited).
  const ctx: Context = {
    ...options.ctx,
    limits: { ...options.ctx.limits, chatsPerUser: Number.POSITIVE_INFINITY },
  };
  for (const [prefix, flavour] of MOUNTS) {
    await app.register(instabugRoutes, { ...options, ctx, prefix, flavour });
  }
}
