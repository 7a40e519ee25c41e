import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  countChats,
  createChat,
  getChatByNumber,
  listChatsByNumber,
  updateChat,
} from '../../chats/chat.service.ts';
import type { Context } from '../../context.ts';
import { AppError, invalid } from '../../errors/codes.ts';
import { reportError, toErrorResponse } from '../../errors/http.ts';
import { type OutageReporter } from '../../errors/database.ts';
import { editMessage, getMessage, listMessages, sendMessage } from '../../messages/message.service.ts';
import { MAX_QUERY_CHARS } from '../../search/search.query.ts';
import { searchChat } from '../../search/search.service.ts';
import { getTokenTenant, listTokenTenants, renameTenant } from '../../tenants/tenant.service.ts';
import { createTokenTenant } from '../../users/user.service.ts';
import {
  DEFAULT_CHAT_NAME,
  pageOf,
  pathNumber,
  pickText,
  requireText,
  searchText,
  SYSTEM_USER,
  systemActor,
  toApplication,
  toChat,
  toListedApplication,
  toMessage,
  toSearchHit,
} from './instabug.mapping.ts';

export interface InstabugOptions {
  ctx: Context;
  exposeStack: boolean;
  /** Where database outages are reported (once each, not per request). */
  outages?: OutageReporter;
}

const APP_NAMES = ['application_name', 'name'] as const;
const CHAT_NAMES = ['chat_name', 'name'] as const;
const MESSAGE_TEXTS = ['message_content', 'body'] as const;
const SEARCH_HITS = 200;

type Params = Record<string, string>;

/**
 * The Instabug "chat system" (README, "Dialects"): applications addressed by token, chats numbered per application,
 * messages per chat, on Parley's tenants, chats and messages. No authentication: the token is the capability.
 * Validation errors answer 422 as Rails does; the body keeps Parley's `{"error": {code, message}}`.
 */
export const instabugRoutes: FastifyPluginAsync<InstabugOptions> = async (
  app,
  { ctx, exposeStack, outages },
) => {
  // Rails clients send `Content-Type: application/json` with no body on POST .../chats: that is an empty object.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, raw, done) => {
    const text = String(raw);
    if (text.trim() === '') {
      done(null, {});
      return;
    }
    try {
      done(null, JSON.parse(text) as unknown);
    } catch {
      done(invalid('body: is not valid JSON'), undefined);
    }
  });
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const answer = toErrorResponse(error, exposeStack);
    reportError(request, reply, error, answer, outages);
    const { status, body } = answer;
    const unprocessable = error instanceof AppError && error.code === 'invalid_request';
    return reply.status(unprocessable ? 422 : status).send(body);
  });

  /** Fastify parses no body on GET; Instabug clients send the search words in one: read it here (JSON, bounded). */
  async function getBody(request: FastifyRequest): Promise<unknown> {
    if (request.body !== undefined || !request.headers['content-length']) {
      return request.body;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request.raw) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += buffer.length;
      if (size > ctx.limits.bodyBytes) {
        throw new AppError('payload_too_large', 'request body is larger than the limit');
      }
      chunks.push(buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') {
      return undefined;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw invalid('body: is not valid JSON');
    }
  }

  async function application(request: FastifyRequest) {
    const tenant = await getTokenTenant(ctx, (request.params as Params).token ?? '');
    return { tenant, token: tenant.token ?? '', actor: systemActor(tenant.id) };
  }

  async function chatOf(request: FastifyRequest) {
    const app = await application(request);
    const number = pathNumber((request.params as Params).number ?? '', 'chat');
    const chat = await getChatByNumber(ctx, app.actor, number);
    return { ...app, chat };
  }

  // Applications.
  app.post('/applications', async (request, reply) => {
    const tenant = await createTokenTenant(ctx, {
      name: requireText(request.body, 'application', APP_NAMES),
      idPrefix: 'instabug',
      // Chats of one application may share a name: Instabug identifies them by number.
      settings: { uniqueGroupNames: false },
      users: [{ ...SYSTEM_USER }],
    });
    return reply.status(201).send(toApplication(tenant, 0));
  });

  app.get('/applications', async (request) => {
    const tenants = await listTokenTenants(ctx, pageOf(request.query));
    return Promise.all(
      tenants.map(async (t) => toListedApplication(t, await countChats(ctx, systemActor(t.id)))),
    );
  });

  app.get('/applications/:token', async (request) => {
    const { tenant, actor } = await application(request);
    return toApplication(tenant, await countChats(ctx, actor));
  });

  const renameApplication = async (request: FastifyRequest) => {
    const { tenant, actor } = await application(request);
    const renamed = await renameTenant(ctx, tenant.id, requireText(request.body, 'application', APP_NAMES));
    return toApplication(renamed, await countChats(ctx, actor));
  };
  app.patch('/applications/:token', renameApplication);
  app.put('/applications/:token', renameApplication);

  // Chats.
  app.post('/applications/:token/chats', async (request, reply) => {
    const { token, actor } = await application(request);
    const name = pickText(request.body, 'chat', CHAT_NAMES);
    if (name !== undefined && name.trim() === '') {
      throw invalid('chat_name: must not be blank');
    }
    const { chat } = await createChat(ctx, actor, { kind: 'group', name: name ?? DEFAULT_CHAT_NAME });
    return reply.status(201).send(toChat(token, chat));
  });

  app.get('/applications/:token/chats', async (request) => {
    const { token, actor } = await application(request);
    return (await listChatsByNumber(ctx, actor, pageOf(request.query))).map((chat) => toChat(token, chat));
  });

  app.get('/applications/:token/chats/:number', async (request) => {
    const { token, chat } = await chatOf(request);
    return toChat(token, chat);
  });

  const renameChat = async (request: FastifyRequest) => {
    const { token, actor, chat } = await chatOf(request);
    const name = requireText(request.body, 'chat', CHAT_NAMES);
    return toChat(token, await updateChat(ctx, actor, chat.id, { name }));
  };
  app.patch('/applications/:token/chats/:number', renameChat);
  app.put('/applications/:token/chats/:number', renameChat);

  // Messages: `POST .../chats/<n>` (the seed text) and `POST .../chats/<n>/messages` (the common variant).
  const send = async (request: FastifyRequest, reply: FastifyReply) => {
    const { token, actor, chat } = await chatOf(request);
    const text = requireText(request.body, 'message', MESSAGE_TEXTS);
    const { message } = await sendMessage(ctx, actor, chat.id, { text });
    return reply.status(201).send(toMessage(token, chat.number, message));
  };
  app.post('/applications/:token/chats/:number', send);
  app.post('/applications/:token/chats/:number/messages', send);

  app.get('/applications/:token/chats/:number/messages', async (request) => {
    const { token, actor, chat } = await chatOf(request);
    const { offset, limit } = pageOf(request.query);
    // Message numbers have no gaps: page p holds numbers (p-1)*per_page+1 .. p*per_page, deleted ones left out.
    const page = await listMessages(ctx, actor, chat.id, { after: offset, limit });
    return page.data.filter((m) => m.deletedAt === null).map((m) => toMessage(token, chat.number, m));
  });

  // Search: `.../chats/<n>/search` (the seed text) and `.../chats/<n>/messages/search` (the de-facto table).
  const search = async (request: FastifyRequest) => {
    const { token, actor, chat } = await chatOf(request);
    const q = searchText(request.query, await getBody(request)).trim();
    if (q === '') {
      return [];
    }
    if ([...q].length > MAX_QUERY_CHARS) {
      throw invalid(`search_query: must be at most ${MAX_QUERY_CHARS} characters`);
    }
    const page = await searchChat(ctx, actor, chat.id, { q, limit: SEARCH_HITS });
    return page.data.map((hit) => toSearchHit(token, chat.number, hit));
  };
  app.get('/applications/:token/chats/:number/search', search);
  app.get('/applications/:token/chats/:number/messages/search', search);

  app.get('/applications/:token/chats/:number/messages/:message', async (request) => {
    const { token, actor, chat } = await chatOf(request);
    const seq = pathNumber((request.params as Params).message ?? '', 'message');
    const message = await getMessage(ctx, actor, chat.id, seq);
    if (message.deletedAt !== null) {
      throw new AppError('not_found', `no message ${seq}`);
    }
    return toMessage(token, chat.number, message);
  });

  const edit = async (request: FastifyRequest) => {
    const { token, actor, chat } = await chatOf(request);
    const seq = pathNumber((request.params as Params).message ?? '', 'message');
    const text = requireText(request.body, 'message', MESSAGE_TEXTS);
    return toMessage(token, chat.number, await editMessage(ctx, actor, chat.id, seq, { text }));
  };
  app.patch('/applications/:token/chats/:number/messages/:message', edit);
  app.put('/applications/:token/chats/:number/messages/:message', edit);
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
