import Type, { type Static } from 'typebox';

export const ListPinsQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
export type ListPinsQuery = Static<typeof ListPinsQuery>;
