import Type, { type Static } from 'typebox';
import { UserIdSchema } from '../../users/user.schema.ts';

export const DrfStatus = Type.Union([Type.Literal('Online'), Type.Literal('Busy'), Type.Literal('Offline')]);
export type DrfStatus = Static<typeof DrfStatus>;

export const UsersQuery = Type.Object({
  id: Type.Optional(Type.String({ maxLength: 30 })),
  username: Type.Optional(Type.String({ maxLength: 150 })),
  first_name: Type.Optional(Type.String({ maxLength: 150 })),
  last_name: Type.Optional(Type.String({ maxLength: 150 })),
  profile__status: Type.Optional(Type.String({ maxLength: 150 })),
});
export type UsersQuery = Static<typeof UsersQuery>;

export const PkParams = Type.Object({ pk: Type.String({ minLength: 1, maxLength: 128 }) });
export const RoomParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 20 }) });
export const ReceiverParams = Type.Object({ receiver: UserIdSchema });
export const TaskParams = Type.Object({ taskId: Type.String({ minLength: 1, maxLength: 128 }) });

/** An empty `?user_id=` is no user, as in the original. */
export const OptionalUserQuery = Type.Object({ user_id: Type.Optional(Type.String({ maxLength: 128 })) });
export type OptionalUserQuery = Static<typeof OptionalUserQuery>;
export const UserQuery = Type.Object({ user_id: UserIdSchema });
export type UserQuery = Static<typeof UserQuery>;
