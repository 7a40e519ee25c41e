import Type, { type Static } from 'typebox';

const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const MessageView = Type.Object({
  id: Type.String(),
  chatId: Type.String(),
  seq: Type.Integer(),
  authorId: Type.String(),
  text: Nullable(Type.String()),
  replyTo: Nullable(Type.Integer()),
  clientId: Nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  editedAt: Nullable(Type.String({ format: 'date-time' })),
  deletedAt: Nullable(Type.String({ format: 'date-time' })),
});
export type MessageView = Static<typeof MessageView>;

export const ClientIdSchema = Type.String({ minLength: 1, maxLength: 128 });

/** Text limits are checked by the service against the configured maximum; the schema only bounds the type. */
export const SendMessageBody = Type.Object(
  {
    text: Type.String({ minLength: 1 }),
    clientId: Type.Optional(ClientIdSchema),
    replyTo: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type SendMessageBody = Static<typeof SendMessageBody>;

export const EditMessageBody = Type.Object(
  { text: Type.String({ minLength: 1 }) },
  { additionalProperties: false },
);
export type EditMessageBody = Static<typeof EditMessageBody>;

export const ListMessagesQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0 })),
    before: Type.Optional(Type.Integer({ minimum: 1 })),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
export type ListMessagesQuery = Static<typeof ListMessagesQuery>;

export const MessageParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  seq: Type.Integer({ minimum: 1 }),
});

export const ReadBody = Type.Object({ seq: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });
export type ReadBody = Static<typeof ReadBody>;

export const ReadView = Type.Object({ lastReadSeq: Type.Integer(), unreadCount: Type.Integer() });
export type ReadView = Static<typeof ReadView>;

export const UnreadView = Type.Object({
  total: Type.Integer(),
  chats: Type.Array(
    Type.Object({ chatId: Type.String(), unreadCount: Type.Integer(), lastReadSeq: Type.Integer() }),
  ),
});
export type UnreadView = Static<typeof UnreadView>;
