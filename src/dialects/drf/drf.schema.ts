import Type, { type Static } from 'typebox';
import { UserIdSchema, UsernameSchema } from '../../users/user.schema.ts';

export const DrfStatus = Type.Union([Type.Literal('Online'), Type.Literal('Busy'), Type.Literal('Offline')]);
export type DrfStatus = Static<typeof DrfStatus>;

const Name = Type.String({ maxLength: 150 });
const Profile = Type.Object({
  status: Type.Optional(DrfStatus),
  status_msg: Type.Optional(Type.String({ maxLength: 200 })),
});

/** DRF ignores fields a serializer does not know; so does the dialect. `password` is accepted and not kept. */
const userFields = {
  profile: Type.Optional(Profile),
  username: UsernameSchema,
  password: Type.Optional(Type.String({ maxLength: 128 })),
  first_name: Type.Optional(Name),
  last_name: Type.Optional(Name),
  email: Type.Optional(Type.Union([Type.Literal(''), Type.String({ format: 'email', maxLength: 254 })])),
};
export const DrfUserBody = Type.Object(userFields);
export type DrfUserBody = Static<typeof DrfUserBody>;
export const DrfUserPatch = Type.Partial(Type.Object(userFields));
export type DrfUserPatch = Static<typeof DrfUserPatch>;

export const UsersQuery = Type.Object({
  id: Type.Optional(Type.String({ maxLength: 128 })),
  username: Type.Optional(Type.String({ maxLength: 150 })),
  first_name: Type.Optional(Type.String({ maxLength: 150 })),
  last_name: Type.Optional(Type.String({ maxLength: 150 })),
  profile__status: Type.Optional(DrfStatus),
});
export type UsersQuery = Static<typeof UsersQuery>;

export const PkParams = Type.Object({ pk: Type.String({ minLength: 1, maxLength: 128 }) });
export const RoomParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 20 }) });
export const ReceiverParams = Type.Object({ receiver: UserIdSchema });
export const TaskParams = Type.Object({ taskId: Type.String({ minLength: 1, maxLength: 128 }) });

export const OptionalUserQuery = Type.Object({ user_id: Type.Optional(UserIdSchema) });
export type OptionalUserQuery = Static<typeof OptionalUserQuery>;
export const UserQuery = Type.Object({ user_id: UserIdSchema });
export type UserQuery = Static<typeof UserQuery>;

export const CreateRoomBody = Type.Object({
  room_name: Type.String({ minLength: 1, maxLength: 200 }),
  room_member: Type.Optional(
    Type.Array(Type.Object({ username: Type.String({ minLength: 1, maxLength: 150 }) }), { maxItems: 1000 }),
  ),
});
export type CreateRoomBody = Static<typeof CreateRoomBody>;

/** `from` is the sender's id: DRF clients send the integer pk; a Parley id as a string is taken too. */
export const SendBody = Type.Object({
  from: Type.Union([Type.Integer({ minimum: 1 }), UserIdSchema]),
  text: Type.String(),
});
export type SendBody = Static<typeof SendBody>;
