import type { AttachmentView } from '../../attachments/attachment.presenter.ts';
import {
  countAttachments,
  createAttachments,
  deleteAttachment,
  findAttachments,
  getAttachment,
  updateAttachment,
} from '../../attachments/attachment.service.ts';
import type { AttachmentFilterField } from '../../attachments/attachment.table.ts';
import type { Actor } from '../../auth/actor.ts';
import type { Context } from '../../context.ts';
import { ATTACHMENT_MODEL, created, toAttachment, type SourceLoopAttachment } from './sourceloop.mapping.ts';
import type { ResourceOperations } from './sourceloop.operations.ts';
import type { AttachmentFilePartial, NewAttachmentFile } from './sourceloop.schema.ts';

/**
 * SourceLoop's attach-files on Parley's attachment metadata: attached to a chat the caller belongs to (and
 * optionally one of its messages); only whoever attached a file changes or deletes it (soft delete).
 */
export const attachments: ResourceOperations<
  AttachmentFilterField,
  AttachmentView,
  SourceLoopAttachment,
  AttachmentFilePartial
> = {
  model: ATTACHMENT_MODEL,
  show: toAttachment,
  fixed: ['id', 'channelId', 'messageId'],
  own: (actor) => ({ field: 'createdBy', op: '=', value: actor.userId }),
  find: findAttachments,
  count: countAttachments,
  get: getAttachment,
  // PUT replaces (LoopBack's replaceById): metadata it leaves out is cleared.
  update: (ctx, actor, current, body, replace = false) =>
    updateAttachment(ctx, actor, current, {
      ...(body.fileKey !== undefined ? { fileKey: body.fileKey } : {}),
      ...(body.metaData !== undefined ? { metadata: body.metaData } : replace ? { metadata: {} } : {}),
    }),
  remove: deleteAttachment,
};

const toInput = (body: NewAttachmentFile) => ({
  chatId: body.channelId,
  fileKey: body.fileKey,
  ...(body.messageId ? { messageId: body.messageId } : {}),
  ...(body.metaData ? { metadata: body.metaData } : {}),
});

/** `POST /attach-files/bulk`: all or none. */
export async function attachFiles(ctx: Context, actor: Actor, bodies: NewAttachmentFile[]) {
  const made = await createAttachments(ctx, actor, bodies.map(toInput));
  // As LoopBack answers a create: without what it has no value for (no message, no metadata sent).
  return made.map((attachment, i) => {
    const { metaData, ...view } = created(toAttachment(attachment));
    return bodies[i]?.metaData === undefined ? view : { ...view, metaData };
  });
}

/** `POST /attach-files`. */
export async function attachFile(ctx: Context, actor: Actor, body: NewAttachmentFile) {
  return (await attachFiles(ctx, actor, [body]))[0];
}
