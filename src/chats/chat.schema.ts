import Type, { type Static } from 'typebox';
import { MessageView } from '../messages/message.schema.ts';
import { UserIdSchema } from '../users/user.schema.ts';
import { ChatSettingsView } from './settings.schema.ts';

const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const ChatKindSchema = Type.Union([Type.Literal('direct'), Type.Literal('group')]);
export const VisibilitySchema = Type.Union([Type.Literal('public'), Type.Literal('private')]);
export const RoleSchema = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member')]);

const ChatName = Type.String({ minLength: 1, maxLength: 200 });
const Topic = Type.String({ maxLength: 1000 });

export const ChatView = Type.Object({
  id: Type.String(),
  number: Type.Integer(),
  kind: ChatKindSchema,
  name: Nullable(Type.String()),
  topic: Nullable(Type.String()),
  visibility: VisibilitySchema,
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastMessageAt: Nullable(Type.String({ format: 'date-time' })),
  messageCount: Type.Integer(),
  memberCount: Type.Integer(),
  lastMessage: Type.Optional(Nullable(MessageView)),
  unreadCount: Type.Integer(),
  lastReadSeq: Type.Integer(),
  role: Nullable(RoleSchema),
  settings: ChatSettingsView,
});
export type ChatView = Static<typeof ChatView>;

export const CreateChatBody = Type.Object(
  {
    kind: ChatKindSchema,
    name: Type.Optional(ChatName),
    topic: Type.Optional(Topic),
    visibility: Type.Optional(VisibilitySchema),
    members: Type.Optional(Type.Array(UserIdSchema, { maxItems: 1000 })),
  },
  { additionalProperties: false },
);
export type CreateChatBody = Static<typeof CreateChatBody>;

export const UpdateChatBody = Type.Object(
  {
    name: Type.Optional(ChatName),
    topic: Type.Optional(Nullable(Topic)),
    visibility: Type.Optional(VisibilitySchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateChatBody = Static<typeof UpdateChatBody>;

export const ChatParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const ListChatsQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    archived: Type.Optional(
      Type.Boolean({ description: 'true: your archived chats only; false (the default): the others.' }),
    ),
    includeHidden: Type.Optional(
      Type.Boolean({ description: 'true: with the chats you hid (default false: without them).' }),
    ),
  },
  { additionalProperties: false },
);
export type ListChatsQuery = Static<typeof ListChatsQuery>;
