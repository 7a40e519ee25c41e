import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../auth/auth.hook.ts';
import type { Context } from '../../context.ts';
import { attachFile, attachFiles, attachments } from './sourceloop.attachment.operations.ts';
import { permit } from './sourceloop.permissions.ts';
import { resourceRoutes } from './sourceloop.resource.ts';
import {
  AttachmentFilePartial,
  FullAttachmentFile,
  NewAttachmentFile,
  NewAttachmentFiles,
} from './sourceloop.schema.ts';

const tags = ['sourceloop'];

/**
 * SourceLoop's attach-files (routes 26–34) on Parley's attachment metadata. Unlike the source, the table exists
 * and the routes work.
 */
export const sourceloopAttachmentRoutes: FastifyPluginAsyncTypebox<{ ctx: Context }> = async (
  app,
  { ctx },
) => {
  // 26. POST /attach-files and 27. POST /attach-files/bulk
  app.post(
    '/attach-files',
    { preHandler: permit('CreateAttachmentFile'), schema: { tags, body: NewAttachmentFile } },
    async (request) => attachFile(ctx, actorOf(request), request.body),
  );
  app.post(
    '/attach-files/bulk',
    { preHandler: permit('CreateAttachmentFile'), schema: { tags, body: NewAttachmentFiles } },
    async (request) => attachFiles(ctx, actorOf(request), request.body.attachmentFiles),
  );

  // 28. GET /attach-files/count, 29. GET /attach-files, 30. PATCH /attach-files?where= (the caller's own),
  // 31. GET, 32. PATCH, 33. PUT (204) and 34. DELETE (soft delete, 204) /attach-files/{id}.
  resourceRoutes(app, ctx, {
    path: '/attach-files',
    permissions: {
      view: 'ViewAttachmentFile',
      update: 'UpdateAttachmentFile',
      delete: 'DeleteAttachmentFile',
    },
    schemas: { partial: AttachmentFilePartial, full: FullAttachmentFile },
    operations: attachments,
  });
};
