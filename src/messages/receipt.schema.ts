import Type, { type Static } from 'typebox';

/** A member who has read a message: their read cursor is at its seq or past it. */
export const ReceiptView = Type.Object({
  userId: Type.String(),
  lastReadSeq: Type.Integer({ description: 'The member’s read cursor: at the message’s seq or past it.' }),
  lastReadAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description:
      'When the cursor last moved: the member had read the message by then. Null when it has not moved since ' +
      'the server started keeping it.',
  }),
});
export type ReceiptView = Static<typeof ReceiptView>;

export const ListReceiptsQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
export type ListReceiptsQuery = Static<typeof ListReceiptsQuery>;
