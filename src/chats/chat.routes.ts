import { actorOf } from '../auth/auth.hook.ts';
import { NoContent, operation, PageOf, secured, type Routes } from '../http/routes.ts';
import { ChatParams, ChatView, CreateChatBody, ListChatsQuery, UpdateChatBody } from './chat.schema.ts';
import { createChat, deleteChat, getChat, listChats, updateChat } from './chat.service.ts';

export const chatRoutes: Routes = async (app, { ctx }) => {
  app.post(
    '/chats',
    {
      schema: {
        tags: ['chats'],
        ...operation('createChat', 'Create a group, or open a direct chat', ['conflict', 'limit_exceeded']),
        ...secured,
        description:
          'Create a group, or open a direct chat (200 with the existing one if the pair already has one).',
        body: CreateChatBody,
        response: { 200: ChatView, 201: ChatView },
      },
    },
    async (request, reply) => {
      const { chat, created } = await createChat(ctx, actorOf(request), request.body);
      return reply.status(created ? 201 : 200).send(chat);
    },
  );

  app.get(
    '/chats',
    {
      schema: {
        tags: ['chats'],
        ...operation('listChats', 'List your chats, most recent activity first'),
        ...secured,
        querystring: ListChatsQuery,
        response: { 200: PageOf(ChatView) },
      },
    },
    (request) => listChats(ctx, actorOf(request), request.query),
  );

  app.get(
    '/chats/:id',
    {
      schema: {
        tags: ['chats'],
        ...operation('getChat', 'A chat you are in', ['not_found']),
        ...secured,
        params: ChatParams,
        response: { 200: ChatView },
      },
    },
    (request) => getChat(ctx, actorOf(request), request.params.id),
  );

  app.patch(
    '/chats/:id',
    {
      schema: {
        tags: ['chats'],
        ...operation('updateChat', "Change a group's name, topic or visibility", [
          'not_found',
          'forbidden',
          'conflict',
        ]),
        ...secured,
        params: ChatParams,
        body: UpdateChatBody,
        response: { 200: ChatView },
      },
    },
    (request) => updateChat(ctx, actorOf(request), request.params.id, request.body),
  );

  app.delete(
    '/chats/:id',
    {
      schema: {
        tags: ['chats'],
        ...operation('deleteChat', 'Delete a group (its owner)', ['not_found', 'forbidden']),
        ...secured,
        params: ChatParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await deleteChat(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};
