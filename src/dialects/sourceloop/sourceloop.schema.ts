import Type, { type Static } from 'typebox';

/**
 * Request bodies as LoopBack checks them (`additionalProperties: false`). Each model is written once, in full (what
 * PUT takes); what POST takes and what PATCH takes (`Type.Partial`) derive from it.
 */
const closed = { additionalProperties: false } as const;

const Id = Type.String({ minLength: 1, maxLength: 128 });
const NullableId = Type.Union([Id, Type.Null()]);

/** Audit fields SourceLoop's schemas let clients send; Parley accepts them and keeps its own values. */
const Audit = {
  createdBy: Type.Optional(Type.String()),
  modifiedBy: Type.Optional(Type.String()),
  createdOn: Type.Optional(Type.String()),
  modifiedOn: Type.Optional(Type.String()),
  deleted: Type.Optional(Type.Boolean()),
  deletedOn: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  deletedBy: Type.Optional(Type.Union([Type.String(), Type.Null()])),
};

/** PUT: the full message. */
export const FullMessage = Type.Object(
  {
    id: Type.Optional(Id),
    body: Type.String({ minLength: 1 }),
    channelId: Id,
    channelType: Type.String({ minLength: 1, maxLength: 64 }),
    status: Type.Optional(Type.Integer({ minimum: -2147483648, maximum: 2147483647 })),
    subject: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
    toUserId: Type.Optional(NullableId),
    parentMessageId: Type.Optional(NullableId),
    ...Audit,
  },
  closed,
);
export type FullMessage = Static<typeof FullMessage>;

/** PATCH: only the text can change; the other properties may be sent with their current values. */
export const MessagePartial = Type.Partial(FullMessage, closed);
export type MessagePartial = Static<typeof MessagePartial>;

/** POST: no id; the channel may come from `toUserId` instead. */
export const NewMessage = Type.Object(
  { ...Type.Omit(FullMessage, ['id']).properties, channelId: Type.Optional(Id) },
  closed,
);
export type NewMessage = Static<typeof NewMessage>;

/** POST /messages/{id}/messages: the same body; the channel and the parent come from the path message. */
export const NewMessageInMessage = NewMessage;
export type NewMessageInMessage = NewMessage;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1 }) });

export const FullMessageRecipient = Type.Object(
  {
    id: Type.Optional(Id),
    channelId: Id,
    recipientId: Id,
    messageId: Id,
    isRead: Type.Optional(Type.Boolean()),
    isFavorite: Type.Optional(Type.Boolean()),
    isForwarded: Type.Optional(Type.Boolean()),
    forwardedBy: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Null()])),
    ...Audit,
  },
  closed,
);

export const MessageRecipientPartial = Type.Partial(FullMessageRecipient, closed);
export type MessageRecipientPartial = Static<typeof MessageRecipientPartial>;

export const NewMessageRecipient = Type.Omit(FullMessageRecipient, ['id'], closed);
export type NewMessageRecipient = Static<typeof NewMessageRecipient>;

/** POST /messages/{id}/message-recipients: the message comes from the path. */
export const NewMessageRecipientInMessage = Type.Object(
  { ...NewMessageRecipient.properties, messageId: Type.Optional(Id) },
  closed,
);
export type NewMessageRecipientInMessage = Static<typeof NewMessageRecipientInMessage>;

export const FullAttachmentFile = Type.Object(
  {
    id: Type.Optional(Id),
    channelId: Id,
    messageId: Type.Optional(NullableId),
    fileKey: Type.String({ minLength: 1, maxLength: 1024 }),
    metaData: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    ...Audit,
  },
  closed,
);

export const AttachmentFilePartial = Type.Partial(FullAttachmentFile, closed);
export type AttachmentFilePartial = Static<typeof AttachmentFilePartial>;

export const NewAttachmentFile = Type.Omit(FullAttachmentFile, ['id'], closed);
export type NewAttachmentFile = Static<typeof NewAttachmentFile>;

export const NewAttachmentFiles = Type.Object(
  { attachmentFiles: Type.Array(NewAttachmentFile, { minItems: 1, maxItems: 100 }) },
  closed,
);
