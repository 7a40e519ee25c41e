import Type, { type Static } from 'typebox';

export const UserStatusSchema = Type.Union([
  Type.Literal('online'),
  Type.Literal('busy'),
  Type.Literal('offline'),
]);

export const UserIdSchema = Type.String({ minLength: 1, maxLength: 128 });
export const UsernameSchema = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[\\p{L}\\p{N}._@+-]+$',
  description: 'letters, digits and . _ @ + -; unique per tenant, case-insensitively',
});
const DisplayName = Type.String({ minLength: 1, maxLength: 200 });
const StatusText = Type.String({ maxLength: 200 });

export const UserView = Type.Object({
  id: Type.String(),
  username: Type.String({ description: '`deleted-user` for a deleted user' }),
  displayName: Type.Union([Type.String(), Type.Null()], { description: '`Deleted user` for a deleted user' }),
  status: UserStatusSchema,
  statusText: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  deletedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'when the user was deleted (their personal fields are erased), or null',
  }),
});
export type UserView = Static<typeof UserView>;

export const CreateUserBody = Type.Object(
  {
    id: Type.Optional(UserIdSchema),
    username: UsernameSchema,
    displayName: Type.Optional(DisplayName),
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBody>;

export const UpdateMeBody = Type.Object(
  {
    displayName: Type.Optional(Type.Union([DisplayName, Type.Null()])),
    status: Type.Optional(UserStatusSchema),
    statusText: Type.Optional(Type.Union([StatusText, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateMeBody = Static<typeof UpdateMeBody>;

export const ListUsersQuery = Type.Object(
  {
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
export type ListUsersQuery = Static<typeof ListUsersQuery>;

export const UserParams = Type.Object({ id: UserIdSchema });
