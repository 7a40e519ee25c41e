import { eventsOf } from '../events.ts';
import type { UserView } from './user.schema.ts';

/** The users feature's events: a user's presence changed (set by them, or by their streams opening and closing). */
export interface UserEvents {
  presence: { userId: string; status: UserView['status'] };
}

export const userEvent = eventsOf<UserEvents>();
