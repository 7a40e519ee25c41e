import { actorOf } from '../auth/auth.hook.ts';
import { operation, PageOf, secured, type Routes } from '../http/routes.ts';
import { MessageParams } from './message.schema.ts';
import { ListReceiptsQuery, ReceiptView } from './receipt.schema.ts';
import { listReceipts } from './receipt.service.ts';

/** Read receipts of a message, addressed like the message itself. */
export const receiptRoutes: Routes = async (app, { ctx }) => {
  app.get(
    '/chats/:id/messages/:seq/receipts',
    {
      schema: {
        tags: ['messages'],
        ...operation('listReceipts', 'Who has read a message', ['not_found', 'limit_exceeded']),
        ...secured,
        description:
          'The members other than its author whose read cursor is at the message or past it, by user id, a page ' +
          'at a time. For chats of at most `PARLEY_RECEIPTS_MAX_MEMBERS` members; a larger one answers 409 ' +
          '`limit_exceeded` (limit `receipts_max_members`).',
        params: MessageParams,
        querystring: ListReceiptsQuery,
        response: { 200: PageOf(ReceiptView) },
      },
    },
    (request) => {
      const { id, seq } = request.params;
      return listReceipts(ctx, actorOf(request), id, seq, request.query);
    },
  );
};
