import Type, { type Static } from 'typebox';

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

const Text = Type.String({ minLength: 1 });

export const NewMessage = Type.Object(
  {
    body: Text,
    channelId: Type.Optional(Id),
    channelType: Type.String({ minLength: 1, maxLength: 64 }),
    toUserId: Type.Optional(NullableId),
    parentMessageId: Type.Optional(NullableId),
    ...Audit,
  },
  { additionalProperties: false },
);
export type NewMessage = Static<typeof NewMessage>;

/** POST /messages/{id}/messages: the channel and the parent come from the path message. */
export const NewMessageInMessage = Type.Object(
  {
    body: Text,
    channelId: Type.Optional(Id),
    channelType: Type.String({ minLength: 1, maxLength: 64 }),
    toUserId: Type.Optional(NullableId),
    parentMessageId: Type.Optional(NullableId),
    ...Audit,
  },
  { additionalProperties: false },
);
export type NewMessageInMessage = Static<typeof NewMessageInMessage>;

/** PATCH: only the text can change; the other properties may be sent with their current values. */
export const MessagePartial = Type.Object(
  {
    id: Type.Optional(Id),
    body: Type.Optional(Text),
    channelId: Type.Optional(Id),
    channelType: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    toUserId: Type.Optional(NullableId),
    parentMessageId: Type.Optional(NullableId),
    ...Audit,
  },
  { additionalProperties: false },
);
export type MessagePartial = Static<typeof MessagePartial>;

/** PUT: the full message. */
export const FullMessage = Type.Object(
  {
    id: Type.Optional(Id),
    body: Text,
    channelId: Id,
    channelType: Type.String({ minLength: 1, maxLength: 64 }),
    toUserId: Type.Optional(NullableId),
    parentMessageId: Type.Optional(NullableId),
    ...Audit,
  },
  { additionalProperties: false },
);
export type FullMessage = Static<typeof FullMessage>;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1 }) });

const Flags = {
  isRead: Type.Optional(Type.Boolean()),
  isFavorite: Type.Optional(Type.Boolean()),
  isForwarded: Type.Optional(Type.Boolean()),
  forwardedBy: Type.Optional(Type.Union([Type.String(), Type.Null()])),
};

export const NewMessageRecipient = Type.Object(
  { channelId: Id, recipientId: Id, messageId: Id, ...Flags, ...Audit },
  { additionalProperties: false },
);
export type NewMessageRecipient = Static<typeof NewMessageRecipient>;

/** POST /messages/{id}/message-recipients: the message comes from the path. */
export const NewMessageRecipientInMessage = Type.Object(
  { channelId: Id, recipientId: Id, messageId: Type.Optional(Id), ...Flags, ...Audit },
  { additionalProperties: false },
);
export type NewMessageRecipientInMessage = Static<typeof NewMessageRecipientInMessage>;

export const MessageRecipientPartial = Type.Object(
  {
    id: Type.Optional(Id),
    channelId: Type.Optional(Id),
    recipientId: Type.Optional(Id),
    messageId: Type.Optional(Id),
    ...Flags,
    ...Audit,
  },
  { additionalProperties: false },
);
export type MessageRecipientPartial = Static<typeof MessageRecipientPartial>;

export const FullMessageRecipient = Type.Object(
  { id: Type.Optional(Id), channelId: Id, recipientId: Id, messageId: Id, ...Flags, ...Audit },
  { additionalProperties: false },
);

const MetaData = Type.Record(Type.String(), Type.Unknown());

export const NewAttachmentFile = Type.Object(
  {
    channelId: Id,
    messageId: Type.Optional(NullableId),
    fileKey: Type.String({ minLength: 1, maxLength: 1024 }),
    metaData: Type.Optional(MetaData),
    ...Audit,
  },
  { additionalProperties: false },
);
export type NewAttachmentFile = Static<typeof NewAttachmentFile>;

export const NewAttachmentFiles = Type.Object(
  { attachmentFiles: Type.Array(NewAttachmentFile, { minItems: 1, maxItems: 100 }) },
  { additionalProperties: false },
);

export const AttachmentFilePartial = Type.Object(
  {
    id: Type.Optional(Id),
    channelId: Type.Optional(Id),
    messageId: Type.Optional(NullableId),
    fileKey: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    metaData: Type.Optional(MetaData),
    ...Audit,
  },
  { additionalProperties: false },
);
export type AttachmentFilePartial = Static<typeof AttachmentFilePartial>;

export const FullAttachmentFile = Type.Object(
  {
    id: Type.Optional(Id),
    channelId: Id,
    messageId: Type.Optional(NullableId),
    fileKey: Type.String({ minLength: 1, maxLength: 1024 }),
    metaData: Type.Optional(MetaData),
    ...Audit,
  },
  { additionalProperties: false },
);
