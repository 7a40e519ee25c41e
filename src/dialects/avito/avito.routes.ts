import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Context } from '../../context.ts';
import { sendJsonPages } from '../dialect.stream.ts';
import { addChat, addMessage, addUser, chatsOf, messagesOf, openAvito } from './avito.operations.ts';
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
 * Avito's "simple HTTP chat" (docs/dialects): five POST routes with JSON bodies and no authentication, on
 * Parley's users, groups and messages in a tenant of their own. Errors keep Parley's `{"error": {code, message}}`.
 */
export const avitoRoutes: FastifyPluginAsyncTypebox<AvitoOptions> = async (
  app,
  { ctx, tenant = 'avito' },
) => {
  const avito = await openAvito(ctx, tenant);

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
      const id = await addUser(avito, request.body);
      return reply.status(201).send({ id });
    },
  );

  app.post(
    '/chats/add',
    { schema: { tags, body: AddChatBody, response: { 201: Created } } },
    async (request, reply) => {
      const id = await addChat(avito, request.body);
      return reply.status(201).send({ id });
    },
  );

  app.post(
    '/messages/add',
    { schema: { tags, body: AddMessageBody, response: { 201: Created } } },
    async (request, reply) => {
      const id = await addMessage(avito, request.body);
      return reply.status(201).send({ id });
    },
  );

  app.post(
    '/chats/get',
    { schema: { tags, body: GetChatsBody, response: { 200: Type.Array(AvitoChat) } } },
    async (request) => chatsOf(avito, request.body),
  );

  // A chat's messages fit one page (the common case): answered whole; else the first page and the rest streamed,
  // each page written by the route's own serializer, so that the answer is the same text either way.
  app.post(
    '/messages/get',
    { schema: { tags, body: GetMessagesBody, response: { 200: Type.Array(AvitoMessage) } } },
    async (request, reply) => {
      const { first, rest } = await messagesOf(avito, request.body);
      if (!rest) {
        return first;
      }
      // The route's serializer writes `[a,b]` for a page: its items are what is between the brackets.
      const json = (page: readonly AvitoMessage[]) =>
        (reply.serializeInput(page as unknown as Record<string, unknown>, '200') as string).slice(1, -1);
      async function* pages(): AsyncGenerator<AvitoMessage[]> {
        yield first;
        yield* rest!;
      }
      return sendJsonPages(reply, pages(), json);
    },
  );
};
