import type { AttachmentView } from '../../attachments/attachment.presenter.ts';
import type { AttachmentFilterField } from '../../attachments/attachment.table.ts';
import type { MessageFilterField } from '../../messages/message.filter.ts';
import type { MessageInContext } from '../../messages/message.presenter.ts';
import type { RecipientView } from '../../recipients/recipient.presenter.ts';
import type { RecipientFilterField } from '../../recipients/recipient.table.ts';
import type { Model } from './sourceloop.filter.ts';

/** The audit properties every SourceLoop model shows last, in this order. */
const AUDIT = [
  'createdBy',
  'createdOn',
  'modifiedBy',
  'modifiedOn',
  'deleted',
  'deletedOn',
  'deletedBy',
] as const;

/** The audit properties of a row; deleted rows are never shown, so the deletion ones are fixed. */
function audit(createdBy: string, createdOn: string, modifiedBy: string, modifiedOn: string) {
  return { createdBy, createdOn, modifiedBy, modifiedOn, deleted: false, deletedOn: null, deletedBy: null };
}

/**
 * A model as LoopBack's create answers it: without the properties it has no value for (reads show them all, `null`
 * when empty, as from the package's PostgreSQL tables).
 */
export function created<T extends object>(view: T): Partial<T> {
  return Object.fromEntries(Object.entries(view).filter(([, value]) => value !== null)) as Partial<T>;
}

/** A SourceLoop Message as LoopBack serialises it. */
export function toMessage({
  message,
  channelType,
  status,
  subject,
  parentId,
  recipientId,
}: MessageInContext) {
  return {
    id: message.id,
    body: message.text,
    channelId: message.chatId,
    channelType,
    status,
    subject,
    toUserId: recipientId,
    parentMessageId: parentId,
    ...audit(message.authorId, message.createdAt, message.authorId, message.editedAt ?? message.createdAt),
  };
}
export type SourceLoopMessage = ReturnType<typeof toMessage>;

/** A recipient's id: its message and member, reversible and opaque. */
export function recipientId(messageId: string, userId: string): string {
  return Buffer.from(JSON.stringify([messageId, userId]), 'utf8').toString('base64url');
}

/** The message and member a recipient id names, or null for anything this API did not hand out. */
export function parseRecipientId(id: string): { messageId: string; userId: string } | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(id, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) {
      return { messageId: value[0] as string, userId: value[1] as string };
    }
  } catch {
    // not one of ours
  }
  return null;
}

/** A SourceLoop MessageRecipient: a member's state on a message. */
export function toRecipient(r: RecipientView) {
  return {
    id: recipientId(r.messageId, r.userId),
    channelId: r.chatId,
    recipientId: r.userId,
    messageId: r.messageId,
    isRead: r.isRead,
    isFavorite: r.isFavorite,
    isForwarded: r.isForwarded,
    forwardedBy: r.forwardedBy,
    // The sender's rows (the package's recipients are written by whoever sends): created by the author, modified
    // by whoever last changed the state.
    ...audit(r.authorId, r.createdAt, r.modifiedBy ?? r.authorId, r.modifiedAt),
  };
}
export type SourceLoopRecipient = ReturnType<typeof toRecipient>;

/** A SourceLoop AttachmentFile: the metadata Parley keeps; the file itself is wherever `fileKey` says. */
export function toAttachment(a: AttachmentView) {
  return {
    id: a.id,
    channelId: a.chatId,
    messageId: a.messageId,
    fileKey: a.fileKey,
    metaData: a.metadata,
    ...audit(a.createdBy, a.createdAt, a.createdBy, a.modifiedAt),
  };
}
export type SourceLoopAttachment = ReturnType<typeof toAttachment>;

export const MESSAGE_MODEL: Model<MessageFilterField> = {
  name: 'Message',
  properties: {
    id: 'id',
    body: 'text',
    channelId: 'chatId',
    channelType: 'channelType',
    status: 'status',
    subject: 'subject',
    createdBy: 'authorId',
    modifiedBy: 'authorId',
    createdOn: 'createdAt',
    modifiedOn: 'modifiedAt',
    parentMessageId: 'parentId',
    toUserId: 'recipientId',
  },
  times: ['createdAt', 'modifiedAt'],
  booleans: [],
  numbers: ['status'],
  shown: [
    'id',
    'body',
    'channelId',
    'channelType',
    'status',
    'subject',
    'toUserId',
    'parentMessageId',
    ...AUDIT,
  ],
  // message.model.ts: hasMany messages (its replies), belongsTo parentMessage, hasMany messageRecipients and
  // attachmentFiles.
  relations: () => ({
    messages: MESSAGE_MODEL,
    parentMessage: MESSAGE_MODEL,
    messageRecipients: RECIPIENT_MODEL,
    attachmentFiles: ATTACHMENT_MODEL,
  }),
};

export const RECIPIENT_MODEL: Model<RecipientFilterField> = {
  name: 'MessageRecipient',
  properties: {
    messageId: 'messageId',
    channelId: 'chatId',
    recipientId: 'recipientId',
    createdBy: 'authorId',
    isRead: 'isRead',
    isFavorite: 'isFavorite',
    isForwarded: 'isForwarded',
    forwardedBy: 'forwardedBy',
    createdOn: 'createdAt',
    modifiedOn: 'modifiedAt',
  },
  times: ['createdAt', 'modifiedAt'],
  booleans: ['isRead', 'isFavorite', 'isForwarded'],
  shown: [
    'id',
    'channelId',
    'recipientId',
    'messageId',
    'isRead',
    'isFavorite',
    'isForwarded',
    'forwardedBy',
    ...AUDIT,
  ],
  // message-recipient.model.ts: belongsTo message.
  relations: () => ({ message: MESSAGE_MODEL }),
};

export const ATTACHMENT_MODEL: Model<AttachmentFilterField> = {
  name: 'AttachmentFile',
  properties: {
    id: 'id',
    channelId: 'chatId',
    messageId: 'messageId',
    fileKey: 'fileKey',
    createdBy: 'createdBy',
    createdOn: 'createdAt',
    modifiedOn: 'modifiedAt',
  },
  times: ['createdAt', 'modifiedAt'],
  booleans: [],
  shown: ['id', 'channelId', 'messageId', 'fileKey', 'metaData', ...AUDIT],
  // attachment-file.model.ts: belongsTo message.
  relations: () => ({ message: MESSAGE_MODEL }),
};
