import Type, { type Static } from 'typebox';
import { UserIdSchema } from '../users/user.schema.ts';

export const DevTokenBody = Type.Object(
  {
    userId: UserIdSchema,
    /** The display name the user gets if this token is the first Parley sees of them. */
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    admin: Type.Optional(
      Type.Boolean({
        description:
          'true: the token makes its user a tenant administrator (`roles: ["admin"]`), to try moderation.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DevTokenBody = Static<typeof DevTokenBody>;

export const DevTokenView = Type.Object({
  token: Type.String(),
  userId: Type.String(),
  expiresIn: Type.Integer({ description: 'seconds' }),
});
export type DevTokenView = Static<typeof DevTokenView>;
