import Type, { type Static } from 'typebox';
import { UserIdSchema } from './user.schema.ts';

export const BlockView = Type.Object(
  {
    userId: Type.String({ description: 'the blocked user' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { description: 'A user the caller blocks: no new direct chat from them, their direct messages refused.' },
);
export type BlockView = Static<typeof BlockView>;

export const BlockParams = Type.Object({ userId: UserIdSchema });

export const ListBlocksQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
export type ListBlocksQuery = Static<typeof ListBlocksQuery>;
