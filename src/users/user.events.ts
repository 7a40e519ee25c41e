import { eventsOf } from '../events.ts';
import type { UserView } from './user.schema.ts';

/**
 * The users feature's events, to the whole tenant: a user's presence changed (set by them, or by their streams
 * opening and closing); a user was deleted (their memberships are gone, each with its `member.removed`; their
 * messages stay, shown with the deleted user's view; their own streams are closed with 4001).
 */
export interface UserEvents {
  presence: { userId: string; status: UserView['status'] };
  'user.deleted': { userId: string };
}

export const userEvent = eventsOf<UserEvents>();
