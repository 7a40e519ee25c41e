import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { Actor } from '../../auth/actor.ts';
import { actorOf } from '../../auth/auth.hook.ts';
import type { Context } from '../../context.ts';
import { AppError, invalid, notFound } from '../../errors.ts';
import { getMessageInContext } from '../../messages/message.service.ts';
import type { RecipientView } from '../../recipients/recipient.presenter.ts';
import {
  clearRecipient,
  countRecipients,
  findRecipients,
  getRecipient,
  updateRecipient,
  type RecipientChanges,
  type RecipientCondition,
} from '../../recipients/recipient.service.ts';
import { both, compileFilter, compileWhere, queryObject } from './sourceloop.filter.ts';
import { parseRecipientId, RECIPIENT_MODEL, toMessage, toRecipient } from './sourceloop.mapping.ts';
import { permit } from './sourceloop.permissions.ts';
import {
  FullMessageRecipient,
  IdParams,
  MessageRecipientPartial,
  NewMessageRecipient,
  NewMessageRecipientInMessage,
} from './sourceloop.schema.ts';

const tags = ['sourceloop'];
const BULK_PAGE = 500;

/**
 * SourceLoop's message recipients (routes 13–25) on Parley's per-member state: a message's recipients are the
 * members of its chat other than its author; `isRead` is the member's read cursor, the flags are stored per member
 * and message. Only the recipient changes its own state.
 */
export const sourceloopRecipientRoutes: FastifyPluginAsyncTypebox<{ ctx: Context }> = async (
  app,
  { ctx },
) => {
  async function byId(actor: Actor, id: string): Promise<RecipientView> {
    const key = parseRecipientId(id);
    if (!key) {
      throw notFound(`message recipient ${id} not found`);
    }
    return getRecipient(ctx, actor, key.messageId, key.userId);
  }

  /** A recipient body may repeat the row's channel, member and message, not change them. */
  function checkUnchangeable(body: MessageRecipientPartial, current: RecipientView | null): void {
    const now = current ? toRecipient(current) : null;
    for (const key of ['id', 'channelId', 'recipientId', 'messageId'] as const) {
      if (body[key] !== undefined && (now === null || body[key] !== now[key])) {
        throw invalid(`${key}: cannot be changed`);
      }
    }
  }

  /** Applies what differs from the current state (a sender may repeat the defaults for another member). */
  async function apply(actor: Actor, current: RecipientView, body: MessageRecipientPartial) {
    const changes: RecipientChanges = {};
    for (const flag of ['isRead', 'isFavorite', 'isForwarded'] as const) {
      if (body[flag] !== undefined && body[flag] !== current[flag]) {
        changes[flag] = body[flag];
      }
    }
    return Object.keys(changes).length === 0 ? current : updateRecipient(ctx, actor, current, changes);
  }

  /** POST: the recipient row of a member of the message's channel (it exists for every member but the author). */
  async function create(actor: Actor, body: NewMessageRecipient) {
    const { message } = await getMessageInContext(ctx, actor, body.messageId);
    if (body.channelId !== message.chatId) {
      throw invalid('channelId: must be the channel of the message');
    }
    let current: RecipientView;
    try {
      current = await getRecipient(ctx, actor, body.messageId, body.recipientId);
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') {
        throw invalid('recipientId: must be a member of the channel other than the author');
      }
      throw error;
    }
    return toRecipient(await apply(actor, current, body));
  }

  async function everyMatch(actor: Actor, where: RecipientCondition | null): Promise<RecipientView[]> {
    const found: RecipientView[] = [];
    for (let offset = 0; ; offset += BULK_PAGE) {
      const page = await findRecipients(ctx, actor, { where, order: [], offset, limit: BULK_PAGE });
      found.push(...page);
      if (page.length < BULK_PAGE) {
        return found;
      }
    }
  }

  const own = (actor: Actor): RecipientCondition => ({ field: 'recipientId', op: '=', value: actor.userId });
  const ofMessage = (messageId: string): RecipientCondition => ({
    field: 'messageId',
    op: '=',
    value: messageId,
  });

  /** PATCH with `where`: the caller's own matching rows (only a recipient changes its state). */
  async function updateWhere(actor: Actor, where: RecipientCondition | null, body: MessageRecipientPartial) {
    checkUnchangeable(body, null);
    const mine = await everyMatch(actor, both(where, own(actor)));
    for (const current of mine) {
      await apply(actor, current, body);
    }
    return { count: mine.length };
  }

  /** DELETE with `where`: clears the caller's own matching flags (the read cursor stays). */
  async function clearWhere(actor: Actor, where: RecipientCondition | null) {
    const mine = await everyMatch(actor, both(where, own(actor)));
    for (const current of mine) {
      await clearRecipient(ctx, actor, current);
    }
    return { count: mine.length };
  }

  const list = async (
    actor: Actor,
    raw: ReturnType<typeof queryObject>,
    scope: RecipientCondition | null,
  ) => {
    const { filter, fields } = compileFilter(raw, RECIPIENT_MODEL, { allowWhere: true });
    const rows = (await findRecipients(ctx, actor, { ...filter, where: both(scope, filter.where) })).map(
      toRecipient,
    );
    return fields ? rows.map(fields) : rows;
  };

  // 13. GET /messages/{id}/message-recipients
  app.get(
    '/messages/:id/message-recipients',
    { onRequest: permit('ViewMessageRecipient'), schema: { tags, params: IdParams } },
    async (request) => {
      const actor = actorOf(request);
      const { message } = await getMessageInContext(ctx, actor, request.params.id);
      return list(actor, queryObject(request.query, 'filter'), ofMessage(message.id));
    },
  );

  // 14. POST /messages/{id}/message-recipients
  app.post(
    '/messages/:id/message-recipients',
    {
      onRequest: permit('CreateMessageRecipient'),
      schema: { tags, params: IdParams, body: NewMessageRecipientInMessage },
    },
    async (request) => {
      const { messageId, ...rest } = request.body;
      if (messageId !== undefined && messageId !== request.params.id) {
        throw invalid('messageId: must be the message in the path');
      }
      return create(actorOf(request), { ...rest, messageId: request.params.id });
    },
  );

  // 15. PATCH /messages/{id}/message-recipients?where= (e.g. {"isRead": true} to mark read)
  app.patch(
    '/messages/:id/message-recipients',
    {
      onRequest: permit('UpdateMessageRecipient'),
      schema: { tags, params: IdParams, body: MessageRecipientPartial },
    },
    async (request) => {
      const actor = actorOf(request);
      const { message } = await getMessageInContext(ctx, actor, request.params.id);
      const where = compileWhere(queryObject(request.query, 'where'), RECIPIENT_MODEL);
      return updateWhere(actor, both(ofMessage(message.id), where), request.body);
    },
  );

  // 16. DELETE /messages/{id}/message-recipients?where=
  app.delete(
    '/messages/:id/message-recipients',
    { onRequest: permit('DeleteMessageRecipient'), schema: { tags, params: IdParams } },
    async (request) => {
      const actor = actorOf(request);
      const { message } = await getMessageInContext(ctx, actor, request.params.id);
      const where = compileWhere(queryObject(request.query, 'where'), RECIPIENT_MODEL);
      return clearWhere(actor, both(ofMessage(message.id), where));
    },
  );

  // 17. POST /message-recipients
  app.post(
    '/message-recipients',
    { onRequest: permit('CreateMessageRecipient'), schema: { tags, body: NewMessageRecipient } },
    async (request) => create(actorOf(request), request.body),
  );

  // 18. GET /message-recipients/count
  app.get(
    '/message-recipients/count',
    { onRequest: permit('ViewMessageRecipient'), schema: { tags } },
    async (request) => ({
      count: await countRecipients(
        ctx,
        actorOf(request),
        compileWhere(queryObject(request.query, 'where'), RECIPIENT_MODEL),
      ),
    }),
  );

  // 19. GET /message-recipients
  app.get(
    '/message-recipients',
    { onRequest: permit('ViewMessageRecipient'), schema: { tags } },
    async (request) => list(actorOf(request), queryObject(request.query, 'filter'), null),
  );

  // 20. PATCH /message-recipients?where=
  app.patch(
    '/message-recipients',
    { onRequest: permit('UpdateMessageRecipient'), schema: { tags, body: MessageRecipientPartial } },
    async (request) =>
      updateWhere(
        actorOf(request),
        compileWhere(queryObject(request.query, 'where'), RECIPIENT_MODEL),
        request.body,
      ),
  );

  // 21. GET /message-recipients/{id}
  app.get(
    '/message-recipients/:id',
    { onRequest: permit('ViewMessageRecipient'), schema: { tags, params: IdParams } },
    async (request) => {
      const { fields } = compileFilter(queryObject(request.query, 'filter'), RECIPIENT_MODEL, {
        allowWhere: false,
      });
      const recipient = toRecipient(await byId(actorOf(request), request.params.id));
      return fields ? fields(recipient) : recipient;
    },
  );

  // 22. PATCH and 23. PUT /message-recipients/{id}: 204.
  const update = async (actor: Actor, id: string, body: MessageRecipientPartial, reply: FastifyReply) => {
    const current = await byId(actor, id);
    checkUnchangeable(body, current);
    await apply(actor, current, body);
    return reply.status(204).send();
  };
  app.patch(
    '/message-recipients/:id',
    {
      onRequest: permit('UpdateMessageRecipient'),
      schema: { tags, params: IdParams, body: MessageRecipientPartial },
    },
    async (request, reply) => update(actorOf(request), request.params.id, request.body, reply),
  );
  app.put(
    '/message-recipients/:id',
    {
      onRequest: permit('UpdateMessageRecipient'),
      schema: { tags, params: IdParams, body: FullMessageRecipient },
    },
    async (request, reply) => update(actorOf(request), request.params.id, request.body, reply),
  );

  // 24. DELETE /message-recipients/{id}: clears the caller's own flags, 204.
  app.delete(
    '/message-recipients/:id',
    { onRequest: permit('DeleteMessageRecipient'), schema: { tags, params: IdParams } },
    async (request, reply) => {
      const actor = actorOf(request);
      await clearRecipient(ctx, actor, await byId(actor, request.params.id));
      return reply.status(204).send();
    },
  );

  // 25. GET /message-recipients/{id}/message (ViewMessage, as the source)
  app.get(
    '/message-recipients/:id/message',
    { onRequest: permit('ViewMessage'), schema: { tags, params: IdParams } },
    async (request) => {
      const actor = actorOf(request);
      const recipient = await byId(actor, request.params.id);
      return toMessage(await getMessageInContext(ctx, actor, recipient.messageId));
    },
  );
};
