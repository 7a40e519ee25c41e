import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { createChat, findTenantChat, listAllChats } from '../../chats/chat.service.ts';
import type { Context } from '../../context.ts';
import { AppError, forbidden, notFound } from '../../errors/codes.ts';
import { membersOfChats } from '../../members/member.service.ts';
import { sendMessage, tenantChatHistory } from '../../messages/message.service.ts';
import { ensureTenant } from '../../tenants/tenant.repository.ts';
import { createUser, getUser, getUsers } from '../../users/user.service.ts';
import { dialectActor, toAvitoChat, toAvitoMessage, userActor } from './avito.mapping.ts';
import {
  AddChatBody,
  AddMessageBody,
  AddUserBody,
  AvitoChat,
  AvitoMessage,
  Created,
  GetChatsBody,
  GetMessagesBody,
} from './avito.schema.ts';

export interface AvitoOptions {
  ctx: Context;
  /** The tenant Avito's users and chats live in (default `avito`). */
  tenant?: string;
}

const tags = ['avito'];

/**
 * Avito's "simple HTTP chat" (README, "Dialects"): five POST routes with JSON bodies and no authentication, on
 * Parley's users, groups and messages in a tenant of their own. Errors keep Parley's `{"error": {code, message}}`.
 */
export const avitoRoutes: FastifyPluginAsyncTypebox<AvitoOptions> = async (
  app,
  { ctx, tenant = 'avito' },
) => {
  await ensureTenant(ctx.db, tenant);
  const dialect = dialectActor(tenant);

  async function requireUser(field: string, id: string): Promise<void> {
    try {
      await getUser(ctx, dialect, id);
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') {
        throw notFound(`${field}: no user with id "${id}"`);
      }
      throw error;
    }
  }

  app.get(
    '/health',
    {
      config: { healthCheck: true },
      schema: { tags, response: { 200: Type.Object({ status: Type.String() }) } },
    },
    () => ({ status: 'ok' }),
  );

  app.post(
    '/users/add',
    { schema: { tags, body: AddUserBody, response: { 201: Created } } },
    async (request, reply) => {
      const user = await createUser(ctx, dialect, { username: request.body.username });
      return reply.status(201).send({ id: user.id });
    },
  );

  app.post(
    '/chats/add',
    { schema: { tags, body: AddChatBody, response: { 201: Created } } },
    async (request, reply) => {
      const ids = [...new Set(request.body.users)];
      const found = new Set((await getUsers(ctx, dialect, ids)).map((u) => u.id));
      const index = request.body.users.findIndex((id) => !found.has(id));
      if (index >= 0) {
        throw notFound(`users[${index}]: no user with id "${request.body.users[index]}"`);
      }
      // The first user listed owns the Parley group; the others are its members.
      const [owner, ...others] = ids as [string, ...string[]];
      const { chat } = await createChat(ctx, userActor(tenant, owner), {
        kind: 'group',
        name: request.body.name,
        members: others,
      });
      return reply.status(201).send({ id: chat.id });
    },
  );

  app.post(
    '/messages/add',
    { schema: { tags, body: AddMessageBody, response: { 201: Created } } },
    async (request, reply) => {
      const { chat, author, text } = request.body;
      if (!(await findTenantChat(ctx, tenant, { id: chat }))) {
        throw notFound(`chat: no chat with id "${chat}"`);
      }
      await requireUser('author', author);
      try {
        const { message } = await sendMessage(ctx, userActor(tenant, author), chat, { text });
        return reply.status(201).send({ id: message.id });
      } catch (error) {
        // The chat exists (checked above): "not found" here means the author is not in it.
        if (error instanceof AppError && error.code === 'not_found') {
          throw forbidden(`author: user "${author}" is not a member of chat "${chat}"`);
        }
        throw error;
      }
    },
  );

  app.post(
    '/chats/get',
    { schema: { tags, body: GetChatsBody, response: { 200: Type.Array(AvitoChat) } } },
    async (request) => {
      await requireUser('user', request.body.user);
      const actor = userActor(tenant, request.body.user);
      // Avito has groups only; a direct chat opened through the native API is not an Avito chat.
      const chats = (await listAllChats(ctx, actor)).filter((c) => c.kind === 'group');
      const members = await membersOfChats(
        ctx,
        actor,
        chats.map((c) => c.id),
      );
      return chats.map((c) => toAvitoChat(c, members.get(c.id) ?? []));
    },
  );

  app.post(
    '/messages/get',
    { schema: { tags, body: GetMessagesBody, response: { 200: Type.Array(AvitoMessage) } } },
    async (request) => {
      const history = await tenantChatHistory(ctx, tenant, request.body.chat).catch((error: unknown) => {
        throw error instanceof AppError && error.code === 'not_found'
          ? notFound(`chat: no chat with id "${request.body.chat}"`)
          : error;
      });
      return history.filter((m) => m.deletedAt === null).map(toAvitoMessage);
    },
  );
};
