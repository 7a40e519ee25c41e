import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { actorOf } from '../../auth/auth.hook.ts';
import type { Actor } from '../../auth/actor.ts';
import { createChat } from '../../chats/chat.service.ts';
import type { Context } from '../../context.ts';
import { AppError, invalid, reportError, toErrorResponse, type OutageReporter } from '../../errors.ts';
import type { MessageCondition } from '../../messages/message.filter.ts';
import type { MessageInContext } from '../../messages/message.presenter.ts';
import {
  countMessages,
  deleteMessage,
  editMessage,
  findMessages,
  getMessageInContext,
  sendMessage,
} from '../../messages/message.service.ts';
import { both, compileFilter, compileWhere, queryObject } from './sourceloop.filter.ts';
import { MESSAGE_MODEL, toMessage } from './sourceloop.mapping.ts';
import { permit } from './sourceloop.permissions.ts';
import { sourceloopAttachmentRoutes } from './sourceloop.attachment.routes.ts';
import { sourceloopRecipientRoutes } from './sourceloop.recipient.routes.ts';
import {
  FullMessage,
  IdParams,
  MessagePartial,
  NewMessage,
  NewMessageInMessage,
} from './sourceloop.schema.ts';

export interface SourceLoopOptions {
  ctx: Context;
  authenticate: onRequestHookHandler;
  exposeStack: boolean;
  /** Where database outages are reported (once each, not per request). */
  outages?: OutageReporter;
}

const ERROR_NAMES: Record<number, string> = {
  400: 'BadRequestError',
  401: 'UnauthorizedError',
  403: 'ForbiddenError',
  404: 'NotFoundError',
  409: 'ConflictError',
  413: 'PayloadTooLargeError',
  415: 'UnsupportedMediaTypeError',
  422: 'UnprocessableEntityError',
  429: 'TooManyRequestsError',
  503: 'ServiceUnavailableError',
};

/** Bulk updates and deletes visit matching messages in pages of this size. */
const BULK_PAGE = 500;

const tags = ['sourceloop'];

/**
 * SourceLoop's chat-service message API (README, "Dialects"), LoopBack 4 shaped, on Parley's chats and messages:
 * the native JWT plus the token's `permissions`; a caller sees only the chats it belongs to.
 */
export const sourceloopRoutes: FastifyPluginAsyncTypebox<SourceLoopOptions> = async (
  app,
  { ctx, authenticate, exposeStack, outages },
) => {
  app.addHook('onRequest', authenticate);
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const answer = toErrorResponse(error, exposeStack);
    reportError(request, reply, error, answer, outages);
    const { status, body } = answer;
    // LoopBack answers validation problems with 422 VALIDATION_FAILED and a missing entity with ENTITY_NOT_FOUND.
    const validation =
      (error instanceof AppError && error.code === 'invalid_request') ||
      (typeof error === 'object' && error !== null && 'validation' in error);
    const statusCode = validation ? 422 : status;
    const code = validation ? 'VALIDATION_FAILED' : status === 404 ? 'ENTITY_NOT_FOUND' : body.error.code;
    return reply.status(statusCode).send({
      error: {
        statusCode,
        name: ERROR_NAMES[statusCode] ?? 'InternalServerError',
        code,
        message: body.error.message,
        ...(body.error.details ? { details: body.error.details } : {}),
      },
    });
  });

  await app.register(sourceloopRecipientRoutes, { ctx });
  await app.register(sourceloopAttachmentRoutes, { ctx });

  async function shown(actor: Actor, id: string) {
    return toMessage(await getMessageInContext(ctx, actor, id));
  }

  /** Where a new message goes: its channel, or the direct chat with `toUserId` (opened if need be). */
  async function channelFor(
    actor: Actor,
    body: NewMessage,
    parent: MessageInContext | null,
  ): Promise<string> {
    let chatId = body.channelId ?? parent?.message.chatId;
    if (body.toUserId) {
      const { chat } = await createChat(ctx, actor, { kind: 'direct', members: [body.toUserId] });
      if (chatId !== undefined && chatId !== chat.id) {
        throw invalid('toUserId: the direct channel with this user is not channelId');
      }
      chatId = chat.id;
    }
    if (chatId === undefined) {
      throw invalid('channelId: is required (or toUserId)');
    }
    if (parent && parent.message.chatId !== chatId) {
      throw invalid('channelId: must be the channel of the parent message');
    }
    return chatId;
  }

  async function parentOf(actor: Actor, id: string | null | undefined): Promise<MessageInContext | null> {
    if (!id) {
      return null;
    }
    try {
      return await getMessageInContext(ctx, actor, id);
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') {
        throw invalid(`parentMessageId: no message "${id}" in a channel of yours`);
      }
      throw error;
    }
  }

  async function create(actor: Actor, body: NewMessage, parent: MessageInContext | null) {
    const chatId = await channelFor(actor, body, parent);
    const { message } = await sendMessage(ctx, actor, chatId, {
      text: body.body,
      ...(parent ? { replyTo: parent.message.seq } : {}),
    });
    return shown(actor, message.id);
  }

  /** Every message matching `where` (all pages), for the bulk routes. */
  async function everyMatch(actor: Actor, where: MessageCondition | null): Promise<MessageInContext[]> {
    const found: MessageInContext[] = [];
    for (let offset = 0; ; offset += BULK_PAGE) {
      const page = await findMessages(ctx, actor, { where, order: [], offset, limit: BULK_PAGE });
      found.push(...page);
      if (page.length < BULK_PAGE) {
        return found;
      }
    }
  }

  /** PATCH with `where`: the caller's own matching messages get the new text (only authors may edit in Parley). */
  async function updateWhere(actor: Actor, where: MessageCondition | null, body: MessagePartial) {
    checkUnchangeable(body, null);
    const mine = await everyMatch(actor, both(where, { field: 'authorId', op: '=', value: actor.userId }));
    if (body.body !== undefined) {
      for (const { message } of mine) {
        await editMessage(ctx, actor, message.chatId, message.seq, { text: body.body });
      }
    }
    return { count: mine.length };
  }

  /** A PATCH or PUT may repeat a message's channel and parent, not change them (channelType is not stored). */
  function checkUnchangeable(body: MessagePartial, current: MessageInContext | null): void {
    const now = current ? toMessage(current) : null;
    for (const key of ['channelId', 'toUserId', 'parentMessageId', 'id'] as const) {
      if (body[key] !== undefined && (now === null || body[key] !== now[key])) {
        throw invalid(`${key}: cannot be changed`);
      }
    }
  }

  // 1. POST /messages
  app.post(
    '/messages',
    { onRequest: permit('CreateMessage'), schema: { tags, body: NewMessage } },
    async (request) => {
      const actor = actorOf(request);
      return create(actor, request.body, await parentOf(actor, request.body.parentMessageId));
    },
  );

  // 2. GET /messages/count
  app.get('/messages/count', { onRequest: permit('ViewMessage'), schema: { tags } }, async (request) => ({
    count: await countMessages(
      ctx,
      actorOf(request),
      compileWhere(queryObject(request.query, 'where'), MESSAGE_MODEL),
    ),
  }));

  // 3. GET /messages
  app.get('/messages', { onRequest: permit('ViewMessage'), schema: { tags } }, async (request) => {
    const { filter, fields } = compileFilter(queryObject(request.query, 'filter'), MESSAGE_MODEL, {
      allowWhere: true,
    });
    const messages = (await findMessages(ctx, actorOf(request), filter)).map(toMessage);
    return fields ? messages.map(fields) : messages;
  });

  // 4. PATCH /messages?where=
  app.patch(
    '/messages',
    { onRequest: permit('UpdateMessage'), schema: { tags, body: MessagePartial } },
    async (request) =>
      updateWhere(
        actorOf(request),
        compileWhere(queryObject(request.query, 'where'), MESSAGE_MODEL),
        request.body,
      ),
  );

  // 5. GET /messages/{id}
  app.get(
    '/messages/:id',
    { onRequest: permit('ViewMessage'), schema: { tags, params: IdParams } },
    async (request) => {
      const { fields } = compileFilter(queryObject(request.query, 'filter'), MESSAGE_MODEL, {
        allowWhere: false,
      });
      const message = await shown(actorOf(request), request.params.id);
      return fields ? fields(message) : message;
    },
  );

  // 6. PATCH /messages/{id} and 7. PUT /messages/{id}: 204.
  const update = async (actor: Actor, id: string, body: MessagePartial, reply: FastifyReply) => {
    const current = await getMessageInContext(ctx, actor, id);
    checkUnchangeable(body, current);
    if (body.body !== undefined) {
      await editMessage(ctx, actor, current.message.chatId, current.message.seq, { text: body.body });
    }
    return reply.status(204).send();
  };
  app.patch(
    '/messages/:id',
    { onRequest: permit('UpdateMessage'), schema: { tags, params: IdParams, body: MessagePartial } },
    async (request, reply) => update(actorOf(request), request.params.id, request.body, reply),
  );
  app.put(
    '/messages/:id',
    { onRequest: permit('UpdateMessage'), schema: { tags, params: IdParams, body: FullMessage } },
    async (request, reply) => update(actorOf(request), request.params.id, request.body, reply),
  );

  // 8. DELETE /messages/{id}: soft delete, 204; afterwards the message is 404 and out of the counts.
  app.delete(
    '/messages/:id',
    { onRequest: permit('DeleteMessage'), schema: { tags, params: IdParams } },
    async (request, reply) => {
      const actor = actorOf(request);
      const { message } = await getMessageInContext(ctx, actor, request.params.id);
      await deleteMessage(ctx, actor, message.chatId, message.seq);
      return reply.status(204).send();
    },
  );

  const replies = (id: string): MessageCondition => ({ field: 'parentId', op: '=', value: id });

  // 9. GET /messages/{id}/messages
  app.get(
    '/messages/:id/messages',
    { onRequest: permit('ViewMessage'), schema: { tags, params: IdParams } },
    async (request) => {
      const actor = actorOf(request);
      const parent = await getMessageInContext(ctx, actor, request.params.id);
      const { filter, fields } = compileFilter(queryObject(request.query, 'filter'), MESSAGE_MODEL, {
        allowWhere: true,
      });
      const found = await findMessages(ctx, actor, {
        ...filter,
        where: both(replies(parent.message.id), filter.where),
      });
      const messages = found.map(toMessage);
      return fields ? messages.map(fields) : messages;
    },
  );

  // 10. POST /messages/{id}/messages: a reply in the parent's channel.
  app.post(
    '/messages/:id/messages',
    { onRequest: permit('CreateMessage'), schema: { tags, params: IdParams, body: NewMessageInMessage } },
    async (request) => {
      const actor = actorOf(request);
      const parent = await getMessageInContext(ctx, actor, request.params.id);
      if (request.body.parentMessageId && request.body.parentMessageId !== parent.message.id) {
        throw invalid('parentMessageId: must be the message in the path');
      }
      return create(actor, request.body, parent);
    },
  );

  // 11. PATCH /messages/{id}/messages?where=
  app.patch(
    '/messages/:id/messages',
    { onRequest: permit('UpdateMessage'), schema: { tags, params: IdParams, body: MessagePartial } },
    async (request) => {
      const actor = actorOf(request);
      const parent = await getMessageInContext(ctx, actor, request.params.id);
      const where = both(
        replies(parent.message.id),
        compileWhere(queryObject(request.query, 'where'), MESSAGE_MODEL),
      );
      return updateWhere(actor, where, request.body);
    },
  );

  // 12. DELETE /messages/{id}/messages?where=: the replies the caller may delete (its own; all as owner/admin).
  app.delete(
    '/messages/:id/messages',
    { onRequest: permit('DeleteMessage'), schema: { tags, params: IdParams } },
    async (request) => {
      const actor = actorOf(request);
      const parent = await getMessageInContext(ctx, actor, request.params.id);
      const where = both(
        replies(parent.message.id),
        compileWhere(queryObject(request.query, 'where'), MESSAGE_MODEL),
      );
      let count = 0;
      for (const { message } of await everyMatch(actor, where)) {
        try {
          await deleteMessage(ctx, actor, message.chatId, message.seq);
          count += 1;
        } catch (error) {
          if (!(error instanceof AppError && error.code === 'forbidden')) {
            throw error;
          }
        }
      }
      return { count };
    },
  );
};
