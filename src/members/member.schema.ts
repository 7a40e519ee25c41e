import Type, { type Static } from 'typebox';
import { RoleSchema } from '../chats/chat.schema.ts';
import { UserIdSchema } from '../users/user.schema.ts';

export const MemberView = Type.Object({
  chatId: Type.String(),
  userId: Type.String(),
  role: RoleSchema,
  joinedAt: Type.String({ format: 'date-time' }),
  lastReadSeq: Type.Integer(),
});
export type MemberView = Static<typeof MemberView>;

export const AddMemberBody = Type.Object(
  { userId: UserIdSchema, role: Type.Optional(RoleSchema) },
  { additionalProperties: false },
);
export type AddMemberBody = Static<typeof AddMemberBody>;

export const UpdateMemberBody = Type.Object({ role: RoleSchema }, { additionalProperties: false });
export type UpdateMemberBody = Static<typeof UpdateMemberBody>;

export const MemberParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  userId: UserIdSchema,
});

export const ListMembersQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
export type ListMembersQuery = Static<typeof ListMembersQuery>;
