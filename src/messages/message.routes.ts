import Type from 'typebox';
import { actorOf } from '../auth/auth.hook.ts';
import { ChatParams } from '../chats/chat.schema.ts';
import { NoContent, operation, PageOf, secured, type Routes } from '../http/routes.ts';
import {
  EditMessageBody,
  ListMessagesQuery,
  MessageParams,
  MessageView,
  ReadBody,
  ReadView,
  SendMessageBody,
  UnreadView,
} from './message.schema.ts';
import { deleteMessage, editMessage, getMessage, markRead, sendMessage, unread } from './message.service.ts';
import { listMessages } from './history.service.ts';

/** The JSON of history pages, for as long as the page object lives (the history cache keeps the shared ones). */
const serializedPages = new WeakMap<object, string>();

export const messageRoutes: Routes = async (app, { ctx }) => {
  app.post(
    '/chats/:id/messages',
    {
      schema: {
        tags: ['messages'],
        ...operation('sendMessage', 'Send a message to a chat', ['not_found', 'forbidden']),
        ...secured,
        description:
          'Send. The same clientId from the same author again answers 200 with the first message, never a second one.',
        params: ChatParams,
        body: SendMessageBody,
        response: { 200: MessageView, 201: MessageView },
      },
    },
    async (request, reply) => {
      const { message, created } = await sendMessage(ctx, actorOf(request), request.params.id, request.body);
      return reply.status(created ? 201 : 200).send(message);
    },
  );

  app.get(
    '/chats/:id/messages',
    {
      schema: {
        tags: ['messages'],
        ...operation('listMessages', "Read a chat's history, a page at a time", ['not_found']),
        ...secured,
        description:
          'Ascending by seq. `after` pages forward; `before`, or neither, pages back from the end.',
        params: ChatParams,
        querystring: ListMessagesQuery,
        response: { 200: PageOf(MessageView) },
      },
    },
    async (request, reply) => {
      const page = await listMessages(ctx, actorOf(request), request.params.id, request.query);
      if (request.jsonapi?.document) {
        return page;
      }
      // A page from the history cache is the same object for every member who reads it unchanged: its JSON too.
      let body = serializedPages.get(page);
      if (body === undefined) {
        body = reply.serialize(page) as string;
        serializedPages.set(page, body);
      }
      // A string with its content type is sent as it is (the route's typed reply expects the page itself).
      return reply.type('application/json; charset=utf-8').send(body as unknown as typeof page);
    },
  );

  app.get(
    '/chats/:id/messages/:seq',
    {
      schema: {
        tags: ['messages'],
        ...operation('getMessage', 'A message, by its seq in the chat', ['not_found']),
        ...secured,
        params: MessageParams,
        response: { 200: MessageView },
      },
    },
    (request) => getMessage(ctx, actorOf(request), request.params.id, request.params.seq),
  );

  app.patch(
    '/chats/:id/messages/:seq',
    {
      schema: {
        tags: ['messages'],
        ...operation('editMessage', "Edit your message's text", ['not_found', 'forbidden', 'conflict']),
        ...secured,
        params: MessageParams,
        body: EditMessageBody,
        response: { 200: MessageView },
      },
    },
    (request) => editMessage(ctx, actorOf(request), request.params.id, request.params.seq, request.body),
  );

  app.delete(
    '/chats/:id/messages/:seq',
    {
      schema: {
        tags: ['messages'],
        ...operation('deleteMessage', 'Delete a message (its author, or an owner or admin)', [
          'not_found',
          'forbidden',
        ]),
        ...secured,
        params: MessageParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await deleteMessage(ctx, actorOf(request), request.params.id, request.params.seq);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/chats/:id/read',
    {
      schema: {
        tags: ['messages'],
        ...operation('markRead', 'Move your read cursor forward', ['not_found']),
        ...secured,
        description:
          'Never moves it back. A move tells `read.updated` to the chat’s members (to your own streams only in a ' +
          'chat of more than `PARLEY_RECEIPTS_MAX_MEMBERS` members).',
        params: ChatParams,
        body: ReadBody,
        response: { 200: ReadView },
      },
    },
    (request) => markRead(ctx, actorOf(request), request.params.id, request.body),
  );

  app.get(
    '/unread',
    {
      schema: {
        tags: ['messages'],
        ...operation('getUnread', 'Your unread counts, per chat and in all'),
        ...secured,
        querystring: Type.Object({}, { additionalProperties: false }),
        response: { 200: UnreadView },
      },
    },
    (request) => unread(ctx, actorOf(request)),
  );
};
