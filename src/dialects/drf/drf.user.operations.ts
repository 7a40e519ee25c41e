import type { Context } from '../../context.ts';
import { notFound } from '../../errors/codes.ts';
import { updateUserAsAdmin, userDetails } from '../../users/details.service.ts';
import type { UserView } from '../../users/user.schema.ts';
import { deleteUser as deleteParleyUser } from '../../members/deletion.service.ts';
import { createNumberedUser, getUser, getUsers, listUsers } from '../../users/user.service.ts';
import { ifNotFound } from '../dialect.errors.ts';
import { openTenantDialect, type TenantDialect } from '../dialect.tenant.ts';
import { comparePks, joinName, profileChanges, toDrfUser, type DrfUser } from './drf.mapping.ts';
import type { UsersQuery } from './drf.schema.ts';
import { fieldErrors, readUserBody, type DrfFieldErrors } from './drf.user.fields.ts';

/** The DRF tenant (created on the first start) and the dialect's administrator in it. */
export function openDrf(ctx: Context, tenantId: string): Promise<TenantDialect> {
  return openTenantDialect(ctx, tenantId, 'drf-dialect');
}

/** The user `id` names, or a 404 in the original's words; a deleted user is gone here, as in DRF. */
export async function requireUser(drf: TenantDialect, id: string | number): Promise<UserView> {
  const missing = () => notFound('User matching query does not exist.');
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

/** The users' DRF view, with the names and e-mail they were given. */
async function drfUsers(drf: TenantDialect, users: UserView[]): Promise<DrfUser[]> {
  const details = await userDetails(
    drf.ctx,
    drf.admin,
    users.map((u) => u.id),
  );
  return users.map((u) => toDrfUser(u, details.get(u.id)));
}

/** django-filter's answer to a filter value it cannot read. */
function checkFilters(q: UsersQuery): void {
  const errors: DrfFieldErrors = {};
  if (q.id !== undefined && q.id !== '' && !/^-?\d+$/.test(q.id.trim())) {
    errors.id = ['Enter a number.'];
  }
  if (q.profile__status !== undefined && q.profile__status !== '' && !STATUSES.has(q.profile__status)) {
    errors.profile__status = [
      `Select a valid choice. ${q.profile__status} is not one of the available choices.`,
    ];
  }
  if (Object.keys(errors).length > 0) {
    throw fieldErrors(errors);
  }
}
const STATUSES = new Set(['Online', 'Busy', 'Offline']);

/** `GET /users/`: every user matching the query's fields exactly (an empty value does not filter), by pk. */
export async function findUsers(drf: TenantDialect, q: UsersQuery): Promise<DrfUser[]> {
  checkFilters(q);
  const wanted = (value: string | undefined, actual: string) =>
    value === undefined || value === '' || value === actual;
  return (await drfUsers(drf, await allUsers(drf))).filter(
    (u) =>
      (q.id === undefined || q.id === '' || String(u.id) === String(Number(q.id.trim()))) &&
      wanted(q.username, u.username) &&
      wanted(q.first_name, u.first_name) &&
      wanted(q.last_name, u.last_name) &&
      wanted(q.profile__status, u.profile.status),
  );
}

/** `POST /users/`: a user numbered by the tenant's next whole number; `password` is checked and not kept. */
export async function createUser(drf: TenantDialect, body: unknown): Promise<DrfUser> {
  const input = readUserBody(body, false);
  const user = await createNumberedUser(drf.ctx, drf.admin, {
    username: input.username!,
    displayName: joinName(input.first_name, input.last_name),
    givenName: input.first_name ?? '',
    familyName: input.last_name ?? '',
    email: input.email ?? '',
    ...profileChanges(input),
  });
  return (await drfUsers(drf, [user]))[0]!;
}

/** `GET /users/<pk>/`. */
export async function showUser(drf: TenantDialect, pk: string): Promise<DrfUser> {
  return (await drfUsers(drf, [await requireUser(drf, pk)]))[0]!;
}

/** `PUT` (`partial` false) and `PATCH /users/<pk>/`: names, e-mail and profile change; the username cannot. */
export async function updateUser(
  drf: TenantDialect,
  pk: string,
  body: unknown,
  partial: boolean,
): Promise<DrfUser> {
  const [current] = await drfUsers(drf, [await requireUser(drf, pk)]);
  const input = readUserBody(body, partial);
  if (input.username !== undefined && input.username !== current!.username) {
    throw fieldErrors({ username: ['A username cannot be changed here.'] });
  }
  const first = input.first_name ?? current!.first_name;
  const last = input.last_name ?? current!.last_name;
  const renamed = input.first_name !== undefined || input.last_name !== undefined;
  const user = await updateUserAsAdmin(drf.ctx, drf.admin, String(current!.id), {
    ...(renamed ? { displayName: joinName(first, last), givenName: first, familyName: last } : {}),
    ...(input.email !== undefined ? { email: input.email } : {}),
    ...profileChanges(input),
  });
  return (await drfUsers(drf, [user]))[0]!;
}

/**
 * `DELETE /users/<pk>/`: Parley's user deletion. As in DRF, the memberships go and the messages stay (DRF keeps
 * them with no author; Parley keeps the author id, shown as a deleted user); the user is then 404 here.
 */
export async function deleteUser(drf: TenantDialect, pk: string): Promise<void> {
  const user = await requireUser(drf, pk);
  await deleteParleyUser(drf.ctx, drf.admin, user.id);
}
