import { actorOf } from '../auth/auth.hook.ts';
import { operation, PageOf, secured, type Routes } from '../http/routes.ts';
import { ListMessagesQuery, MessageView, ReadBody, ThreadParams, ThreadReadView } from './message.schema.ts';
import { listThreadMessages } from './history.service.ts';
import { markThreadRead } from './thread.service.ts';

/** A message's thread, addressed like the message itself: by the chat and the root's seq in it. */
export const threadRoutes: Routes = async (app, { ctx }) => {
  app.get(
    '/chats/:id/messages/:seq/thread',
    {
      schema: {
        tags: ['messages'],
        ...operation('listThreadMessages', "Read a thread's replies, a page at a time", ['not_found']),
        ...secured,
        description:
          'The replies in the thread under the message (not the message itself), ascending by seq and paged as the ' +
          "chat's history: `after` pages forward; `before`, or neither, pages back from the newest. 404 when the " +
          'message is a thread reply (a reply has no thread) or does not exist.',
        params: ThreadParams,
        querystring: ListMessagesQuery,
        response: { 200: PageOf(MessageView) },
      },
    },
    (request) => {
      const { id, seq } = request.params;
      return listThreadMessages(ctx, actorOf(request), id, seq, request.query);
    },
  );

  app.post(
    '/chats/:id/messages/:seq/thread/read',
    {
      schema: {
        tags: ['messages'],
        ...operation('markThreadRead', 'Move your read cursor in a thread forward', ['not_found']),
        ...secured,
        description:
          'Participants of the thread (its root’s author, everyone who replied) have a cursor of their own in it, ' +
          'which counts their unread replies (`GET /v1/unread`, `threads`). `seq` is a seq of the chat; the cursor ' +
          'only moves forward. Anyone else is answered `participant: false`, and nothing is stored.',
        params: ThreadParams,
        body: ReadBody,
        response: { 200: ThreadReadView },
      },
    },
    (request) => {
      const { id, seq } = request.params;
      return markThreadRead(ctx, actorOf(request), id, seq, request.body);
    },
  );
};
