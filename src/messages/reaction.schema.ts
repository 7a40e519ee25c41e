import Type, { type Static } from 'typebox';

/** One emoji on a message: how many members reacted with it, and whether the caller is one of them. */
export const ReactionView = Type.Object({
  emoji: Type.String(),
  count: Type.Integer({ minimum: 1 }),
  me: Type.Boolean(),
});
export type ReactionView = Static<typeof ReactionView>;

/** The emoji as a path segment; its content (bytes, characters) is checked by the service, which names the field. */
export const ReactionParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  emoji: Type.String({ minLength: 1, maxLength: 128 }),
});
export type ReactionParams = Static<typeof ReactionParams>;

/** The caller's reaction after a PUT: the emoji's count on the message now (`me` is always true). */
export const ReactionChangeView = Type.Object({
  chatId: Type.String(),
  seq: Type.Integer(),
  messageId: Type.String(),
  emoji: Type.String(),
  count: Type.Integer({ minimum: 1 }),
  me: Type.Boolean(),
});
export type ReactionChangeView = Static<typeof ReactionChangeView>;

/** A member who reacted with an emoji, and when. */
export const ReactionUserView = Type.Object({
  userId: Type.String(),
  reactedAt: Type.String({ format: 'date-time' }),
});
export type ReactionUserView = Static<typeof ReactionUserView>;

export const ListReactionUsersQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
export type ListReactionUsersQuery = Static<typeof ListReactionUsersQuery>;
