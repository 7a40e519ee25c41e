import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { AttachmentView } from '../../attachments/attachment.presenter.ts';
import {
  countAttachments,
  createAttachments,
  deleteAttachment,
  findAttachments,
  getAttachment,
  updateAttachment,
  type AttachmentCondition,
} from '../../attachments/attachment.service.ts';
import type { Actor } from '../../auth/actor.ts';
import { actorOf } from '../../auth/auth.hook.ts';
import type { Context } from '../../context.ts';
import { invalid } from '../../errors.ts';
import { both, compileFilter, compileWhere, queryObject } from './sourceloop.filter.ts';
import { ATTACHMENT_MODEL, toAttachment } from './sourceloop.mapping.ts';
import { permit } from './sourceloop.permissions.ts';
import {
  AttachmentFilePartial,
  FullAttachmentFile,
  IdParams,
  NewAttachmentFile,
  NewAttachmentFiles,
} from './sourceloop.schema.ts';

const tags = ['sourceloop'];
const BULK_PAGE = 500;

/**
 * SourceLoop's attach-files (routes 26–34) on Parley's attachment metadata: attached to a chat the caller belongs
 * to (and optionally one of its messages); only whoever attached a file changes or deletes it. Unlike the source,
 * the table exists and the routes work.
 */
export const sourceloopAttachmentRoutes: FastifyPluginAsyncTypebox<{ ctx: Context }> = async (
  app,
  { ctx },
) => {
  const toInput = (body: NewAttachmentFile) => ({
    chatId: body.channelId,
    fileKey: body.fileKey,
    ...(body.messageId ? { messageId: body.messageId } : {}),
    ...(body.metaData ? { metadata: body.metaData } : {}),
  });

  /** A change may repeat an attachment's channel and message, not move it. */
  function checkUnchangeable(body: AttachmentFilePartial, current: AttachmentView | null): void {
    const now = current ? toAttachment(current) : null;
    for (const key of ['id', 'channelId', 'messageId'] as const) {
      if (body[key] !== undefined && (now === null || body[key] !== now[key])) {
        throw invalid(`${key}: cannot be changed`);
      }
    }
  }

  const changesOf = (body: AttachmentFilePartial) => ({
    ...(body.fileKey !== undefined ? { fileKey: body.fileKey } : {}),
    ...(body.metaData !== undefined ? { metadata: body.metaData } : {}),
  });

  // 26. POST /attach-files and 27. POST /attach-files/bulk
  app.post(
    '/attach-files',
    { onRequest: permit('CreateAttachmentFile'), schema: { tags, body: NewAttachmentFile } },
    async (request) => {
      const created = await createAttachments(ctx, actorOf(request), [toInput(request.body)]);
      return created.map(toAttachment)[0];
    },
  );
  app.post(
    '/attach-files/bulk',
    { onRequest: permit('CreateAttachmentFile'), schema: { tags, body: NewAttachmentFiles } },
    async (request) =>
      (await createAttachments(ctx, actorOf(request), request.body.attachmentFiles.map(toInput))).map(
        toAttachment,
      ),
  );

  // 28. GET /attach-files/count
  app.get(
    '/attach-files/count',
    { onRequest: permit('ViewAttachmentFile'), schema: { tags } },
    async (request) => ({
      count: await countAttachments(
        ctx,
        actorOf(request),
        compileWhere(queryObject(request.query, 'where'), ATTACHMENT_MODEL),
      ),
    }),
  );

  // 29. GET /attach-files
  app.get('/attach-files', { onRequest: permit('ViewAttachmentFile'), schema: { tags } }, async (request) => {
    const { filter, fields } = compileFilter(queryObject(request.query, 'filter'), ATTACHMENT_MODEL, {
      allowWhere: true,
    });
    const files = (await findAttachments(ctx, actorOf(request), filter)).map(toAttachment);
    return fields ? files.map(fields) : files;
  });

  // 30. PATCH /attach-files?where=: the caller's own matching attachments.
  app.patch(
    '/attach-files',
    { onRequest: permit('UpdateAttachmentFile'), schema: { tags, body: AttachmentFilePartial } },
    async (request) => {
      const actor = actorOf(request);
      checkUnchangeable(request.body, null);
      const where: AttachmentCondition | null = both(
        compileWhere(queryObject(request.query, 'where'), ATTACHMENT_MODEL),
        { field: 'createdBy', op: '=', value: actor.userId },
      );
      const mine = await everyMatch(actor, where);
      for (const current of mine) {
        await updateAttachment(ctx, actor, current, changesOf(request.body));
      }
      return { count: mine.length };
    },
  );

  async function everyMatch(actor: Actor, where: AttachmentCondition | null): Promise<AttachmentView[]> {
    const found: AttachmentView[] = [];
    for (let offset = 0; ; offset += BULK_PAGE) {
      const page = await findAttachments(ctx, actor, { where, order: [], offset, limit: BULK_PAGE });
      found.push(...page);
      if (page.length < BULK_PAGE) {
        return found;
      }
    }
  }

  // 31. GET /attach-files/{id}
  app.get(
    '/attach-files/:id',
    { onRequest: permit('ViewAttachmentFile'), schema: { tags, params: IdParams } },
    async (request) => {
      const { fields } = compileFilter(queryObject(request.query, 'filter'), ATTACHMENT_MODEL, {
        allowWhere: false,
      });
      const file = toAttachment(await getAttachment(ctx, actorOf(request), request.params.id));
      return fields ? fields(file) : file;
    },
  );

  // 32. PATCH and 33. PUT /attach-files/{id}: 204.
  const update = async (actor: Actor, id: string, body: AttachmentFilePartial, reply: FastifyReply) => {
    const current = await getAttachment(ctx, actor, id);
    checkUnchangeable(body, current);
    await updateAttachment(ctx, actor, current, changesOf(body));
    return reply.status(204).send();
  };
  app.patch(
    '/attach-files/:id',
    {
      onRequest: permit('UpdateAttachmentFile'),
      schema: { tags, params: IdParams, body: AttachmentFilePartial },
    },
    async (request, reply) => update(actorOf(request), request.params.id, request.body, reply),
  );
  app.put(
    '/attach-files/:id',
    {
      onRequest: permit('UpdateAttachmentFile'),
      schema: { tags, params: IdParams, body: FullAttachmentFile },
    },
    async (request, reply) => update(actorOf(request), request.params.id, request.body, reply),
  );

  // 34. DELETE /attach-files/{id}: soft delete, 204.
  app.delete(
    '/attach-files/:id',
    { onRequest: permit('DeleteAttachmentFile'), schema: { tags, params: IdParams } },
    async (request, reply) => {
      const actor = actorOf(request);
      await deleteAttachment(ctx, actor, await getAttachment(ctx, actor, request.params.id));
      return reply.status(204).send();
    },
  );
};
