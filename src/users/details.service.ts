import type { Actor } from '../auth/actor.ts';
import type { Context } from '../context.ts';
import { forbidden, notFound } from '../errors/codes.ts';
import { userEvent } from './user.events.ts';
import { presentUser } from './user.presenter.ts';
import { findUsers, updateUser } from './user.repository.ts';
import type { UserView } from './user.schema.ts';
import type { UserStatus, UserUpdate } from './user.table.ts';

/** What some clients keep beside the display name (DRF's first and last name, e-mail), as they gave it. */
export interface UserDetails {
  givenName: string | null;
  familyName: string | null;
  email: string | null;
}

/** The details of the tenant's users among `ids` (those that exist). */
export async function userDetails(
  ctx: Context,
  actor: Actor,
  ids: string[],
): Promise<Map<string, UserDetails>> {
  const rows = await findUsers(ctx.db, actor.tenantId, [...new Set(ids)]);
  return new Map(
    rows.map((row) => [row.id, { givenName: row.given_name, familyName: row.family_name, email: row.email }]),
  );
}

export interface UserChanges extends Partial<UserDetails> {
  displayName?: string | null;
  status?: UserStatus;
  statusText?: string | null;
}

/** A tenant administrator changes a user's profile and details in one statement (DRF's `PUT /users/<pk>/`). */
export async function updateUserAsAdmin(
  ctx: Context,
  actor: Actor,
  userId: string,
  changes: UserChanges,
): Promise<UserView> {
  if (!actor.isAdmin) {
    throw forbidden("only a tenant administrator may change another user's profile");
  }
  const set: UserUpdate = {
    ...(changes.displayName !== undefined ? { display_name: changes.displayName } : {}),
    ...(changes.status !== undefined ? { status: changes.status } : {}),
    ...(changes.statusText !== undefined ? { status_text: changes.statusText } : {}),
    ...(changes.givenName !== undefined ? { given_name: changes.givenName } : {}),
    ...(changes.familyName !== undefined ? { family_name: changes.familyName } : {}),
    ...(changes.email !== undefined ? { email: changes.email } : {}),
  };
  const row =
    Object.keys(set).length === 0
      ? (await findUsers(ctx.db, actor.tenantId, [userId]))[0]
      : await updateUser(ctx.db, actor.tenantId, userId, set);
  if (!row) {
    throw notFound(`user ${userId} not found`);
  }
  const view = presentUser(row);
  if (changes.status !== undefined) {
    ctx.events.publish(userEvent('presence', actor.tenantId, { userId }, { userId, status: view.status }));
  }
  return view;
}
