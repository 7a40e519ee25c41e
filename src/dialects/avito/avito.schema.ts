import Type, { type Static } from 'typebox';
import { UserIdSchema, UsernameSchema } from '../../users/user.schema.ts';

const ChatName = Type.String({ minLength: 1, maxLength: 200 });

export const AddUserBody = Type.Object({ username: UsernameSchema }, { additionalProperties: false });
export type AddUserBody = Static<typeof AddUserBody>;

export const AddChatBody = Type.Object(
  { name: ChatName, users: Type.Array(UserIdSchema, { minItems: 1, maxItems: 10_000 }) },
  { additionalProperties: false },
);
export type AddChatBody = Static<typeof AddChatBody>;

export const AddMessageBody = Type.Object(
  { chat: Type.String({ minLength: 1, maxLength: 128 }), author: UserIdSchema, text: Type.String() },
  { additionalProperties: false },
);
export type AddMessageBody = Static<typeof AddMessageBody>;

export const GetChatsBody = Type.Object({ user: UserIdSchema }, { additionalProperties: false });
export type GetChatsBody = Static<typeof GetChatsBody>;

export const GetMessagesBody = Type.Object(
  { chat: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);
export type GetMessagesBody = Static<typeof GetMessagesBody>;

export const Created = Type.Object({ id: Type.String() });

export const AvitoChat = Type.Object({
  id: Type.String(),
  name: Type.String(),
  users: Type.Array(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
});
export type AvitoChat = Static<typeof AvitoChat>;

export const AvitoMessage = Type.Object({
  id: Type.String(),
  chat: Type.String(),
  author: Type.String(),
  text: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});
export type AvitoMessage = Static<typeof AvitoMessage>;
