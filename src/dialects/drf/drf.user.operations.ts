import type { Context } from '../../context.ts';
import { invalid, notFound } from '../../errors/codes.ts';
import type { UserView } from '../../users/user.schema.ts';
import { deleteUser as deleteParleyUser } from '../../members/deletion.service.ts';
import { createNumberedUser, getUser, getUsers, listUsers, updateMe } from '../../users/user.service.ts';
import { ifNotFound } from '../dialect.errors.ts';
import { openTenantDialect, type TenantDialect } from '../dialect.tenant.ts';
import {
  comparePks,
  joinName,
  profileChanges,
  splitName,
  toDrfUser,
  userActor,
  type DrfUser,
} from './drf.mapping.ts';
import type { DrfUserBody, DrfUserPatch, UsersQuery } from './drf.schema.ts';

/** The DRF tenant (created on the first start) and the dialect's administrator in it. */
export function openDrf(ctx: Context, tenantId: string): Promise<TenantDialect> {
  return openTenantDialect(ctx, tenantId, 'drf-dialect');
}

/** The user `id` names, or a 404 naming `field`; a deleted user is gone here, as in DRF. */
export async function requireUser(drf: TenantDialect, field: string, id: string | number): Promise<UserView> {
  const missing = () => notFound(`${field}: no user with id ${JSON.stringify(id)}`);
  const user = await ifNotFound(getUser(drf.ctx, drf.admin, String(id)), missing);
  if (user.deletedAt !== null) {
    throw missing();
  }
  return user;
}

/** The usernames of users by id. */
export async function usernames(drf: TenantDialect, ids: string[]): Promise<Map<string, string>> {
  return new Map((await getUsers(drf.ctx, drf.admin, ids)).map((u) => [u.id, u.username]));
}

/** The user named `username`, or none. */
export async function findByUsername(drf: TenantDialect, username: string): Promise<UserView | undefined> {
  return (await listUsers(drf.ctx, drf.admin, { username, limit: 1 })).data[0];
}

/** Every user of the tenant, by DRF pk. */
async function allUsers(drf: TenantDialect): Promise<UserView[]> {
  const all: UserView[] = [];
  let cursor: string | null = null;
  do {
    const page: { data: UserView[]; nextCursor: string | null } = await listUsers(drf.ctx, drf.admin, {
      limit: 200,
      ...(cursor !== null ? { cursor } : {}),
    });
    all.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return all.sort((a, b) => comparePks(a.id, b.id));
}

/** `GET /users/`: every user matching the query's fields, by pk. */
export async function findUsers(drf: TenantDialect, q: UsersQuery): Promise<DrfUser[]> {
  return (await allUsers(drf))
    .map(toDrfUser)
    .filter(
      (u) =>
        (q.id === undefined || String(u.id) === q.id) &&
        (q.username === undefined || u.username === q.username) &&
        (q.first_name === undefined || u.first_name === q.first_name) &&
        (q.last_name === undefined || u.last_name === q.last_name) &&
        (q.profile__status === undefined || u.profile.status === q.profile__status),
    );
}

/** `POST /users/`: a user numbered by the tenant's next whole number. */
export async function createUser(drf: TenantDialect, body: DrfUserBody): Promise<DrfUser> {
  const user = await createNumberedUser(drf.ctx, drf.admin, {
    username: body.username,
    displayName: joinName(body.first_name, body.last_name),
    ...profileChanges(body),
  });
  return toDrfUser(user);
}

/** `GET /users/<pk>/`. */
export async function showUser(drf: TenantDialect, pk: string): Promise<DrfUser> {
  return toDrfUser(await requireUser(drf, 'pk', pk));
}

/** `PUT` and `PATCH /users/<pk>/`: the names and the profile change; the username cannot. */
export async function updateUser(drf: TenantDialect, pk: string, body: DrfUserPatch): Promise<DrfUser> {
  const current = await requireUser(drf, 'pk', pk);
  if (body.username !== undefined && body.username !== current.username) {
    throw invalid('username: cannot be changed through this API');
  }
  const names = splitName(current.displayName);
  const displayName =
    body.first_name !== undefined || body.last_name !== undefined
      ? joinName(body.first_name ?? names.first_name, body.last_name ?? names.last_name)
      : undefined;
  const changes = {
    ...(displayName ? { displayName } : {}),
    ...profileChanges(body),
  };
  if (Object.keys(changes).length === 0) {
    return toDrfUser(current);
  }
  return toDrfUser(await updateMe(drf.ctx, userActor(drf.tenantId, current.id), changes));
}

/**
 * `DELETE /users/<pk>/`: Parley's user deletion. As in DRF, the memberships go and the messages stay (DRF keeps
 * them with no author; Parley keeps the author id, shown as a deleted user); the user is then 404 here.
 */
export async function deleteUser(drf: TenantDialect, pk: string): Promise<void> {
  const user = await requireUser(drf, 'pk', pk);
  await deleteParleyUser(drf.ctx, drf.admin, user.id);
}
