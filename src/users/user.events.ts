import Type from 'typebox';
import { eventsOf, type PayloadsOf } from '../events.ts';
import { UserStatusSchema } from './user.schema.ts';

/**
 * The users feature's events, to the whole tenant: a user's presence changed (set by them, or by their streams
 * opening and closing); a user was deleted (their memberships are gone, each with its `member.removed`; their
 * messages stay, shown with the deleted user's view; their own streams are closed with 4001).
 */
export const UserEvents = {
  presence: Type.Object(
    { userId: Type.String(), status: UserStatusSchema },
    {
      description:
        'A user’s presence changed: to the whole tenant when their first stream opened or their last one closed; ' +
        'to the user’s own streams when they set their status.',
    },
  ),
  'user.deleted': Type.Object(
    { userId: Type.String() },
    {
      description:
        'A user was deleted: to the whole tenant. Their memberships are gone (each with its `member.removed`), ' +
        'their messages stay (shown as a deleted user), and their own streams are closed with 4001.',
    },
  ),
};
export type UserEvents = PayloadsOf<typeof UserEvents>;

export const userEvent = eventsOf<UserEvents>();
