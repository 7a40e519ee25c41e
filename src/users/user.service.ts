import { createHash } from 'node:crypto';
import type { Actor } from '../auth/actor.ts';
import type { Context } from '../context.ts';
import { conflict, forbidden, notFound, unauthorized } from '../errors/codes.ts';
import { uniqueViolation } from '../errors/database.ts';
import { newId } from '../ids.ts';
import { DEFAULT_LIMIT, decodeCursor, pageOf, type Page } from '../pagination.ts';
import { presentTenant, type TenantView } from '../tenants/tenant.presenter.ts';
import { insertTokenTenant, provisionTenant, type NewTokenTenant } from '../tenants/tenant.service.ts';
import { presentUser } from './user.presenter.ts';
import {
  findUser,
  findUsers,
  insertUser,
  insertNumberedUser,
  insertUserIfAbsent,
  listUsers as listUserRows,
  updateUser,
} from './user.repository.ts';
import type { CreateUserBody, ListUsersQuery, UpdateMeBody, UserView } from './user.schema.ts';
import type { UserRow, UserStatus } from './user.table.ts';
import { userEvent } from './user.events.ts';

const USERNAME = /^[\p{L}\p{N}._@+-]{1,64}$/u;

/** Remembers which (tenant, user) pairs exist, so provisioning costs a query only on first sight. */
export class KnownUsers {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 50_000) {}

  has(tenantId: string, userId: string): boolean {
    return this.seen.has(`${tenantId}\u0000${userId}`);
  }

  add(tenantId: string, userId: string): void {
    if (this.seen.size >= this.capacity) {
      this.seen.clear();
    }
    this.seen.add(`${tenantId}\u0000${userId}`);
  }

  /** The user was deleted (on any process): their next request looks them up again, and is refused. */
  forget(tenantId: string, userId: string): void {
    this.seen.delete(`${tenantId}\u0000${userId}`);
  }
}

function usernameCandidates(actor: Actor): string[] {
  const hash = createHash('sha256')
    .update(`${actor.tenantId}\u0000${actor.userId}`)
    .digest('hex')
    .slice(0, 10);
  const wanted = [actor.profile.username, actor.userId].filter(
    (name): name is string => name !== null && USERNAME.test(name),
  );
  return [...wanted, ...wanted.map((name) => `${name.slice(0, 53)}-${hash}`), `user-${hash}`];
}

/** The answer to any token of a deleted user: it names nobody any more (docs/users.md, "Deletion"). */
export const userDeleted = (userId: string) =>
  unauthorized(`user ${userId} has been deleted; a token for it is no longer accepted`);

/**
 * Just-in-time provisioning: the product's backend vouches for the user by signing the token, so the tenant and the
 * user are created on first sight. A username already taken by someone else falls back to a suffixed one. A deleted
 * user is never provisioned again: their id stays the author of their messages, so a new account under it would
 * inherit them; the token is refused (401) instead.
 */
export async function provisionActor(ctx: Context, actor: Actor): Promise<void> {
  const known = ctx.knownUsers;
  if (known?.has(actor.tenantId, actor.userId)) {
    return;
  }
  await provisionTenant(ctx, actor.tenantId);
  let row = await findUser(ctx.db, actor.tenantId, actor.userId);
  if (!row) {
    for (const username of usernameCandidates(actor)) {
      const created = await insertUserIfAbsent(ctx.db, {
        tenant_id: actor.tenantId,
        id: actor.userId,
        username,
        display_name: actor.profile.displayName ?? actor.profile.username ?? username,
        status_text: null,
      });
      row = created ?? (await findUser(ctx.db, actor.tenantId, actor.userId));
      if (row) {
        break;
      }
    }
  }
  if (row?.deleted_at) {
    throw userDeleted(actor.userId);
  }
  known?.add(actor.tenantId, actor.userId);
}

async function requireUser(ctx: Context, tenantId: string, id: string): Promise<UserRow> {
  const row = await findUser(ctx.db, tenantId, id);
  if (!row) {
    throw notFound(`user ${id} not found`);
  }
  return row;
}

export async function getMe(ctx: Context, actor: Actor): Promise<UserView> {
  return presentUser(await requireUser(ctx, actor.tenantId, actor.userId));
}

export async function updateMe(ctx: Context, actor: Actor, body: UpdateMeBody): Promise<UserView> {
  const row = await updateUser(ctx.db, actor.tenantId, actor.userId, {
    ...(body.displayName !== undefined ? { display_name: body.displayName } : {}),
    ...(body.status !== undefined ? { status: body.status } : {}),
    ...(body.statusText !== undefined ? { status_text: body.statusText } : {}),
  });
  if (!row) {
    throw notFound(`user ${actor.userId} not found`);
  }
  const view = presentUser(row);
  if (body.status !== undefined) {
    ctx.events.publish(
      userEvent(
        'presence',
        actor.tenantId,
        { userId: actor.userId },
        { userId: actor.userId, status: view.status },
      ),
    );
  }
  return view;
}

export async function createUser(ctx: Context, actor: Actor, body: CreateUserBody): Promise<UserView> {
  if (!actor.isAdmin) {
    throw forbidden('only a tenant administrator may create users');
  }
  try {
    const row = await insertUser(ctx.db, {
      tenant_id: actor.tenantId,
      id: body.id ?? newId(),
      username: body.username,
      display_name: body.displayName ?? null,
      status_text: null,
    });
    return presentUser(row);
  } catch (error) {
    const constraint = uniqueViolation(error);
    if (constraint === 'users_username_key') {
      throw conflict(`username: "${body.username}" is already taken`);
    }
    if (constraint !== null) {
      throw conflict(`id: a user with id "${body.id}" already exists`);
    }
    throw error;
  }
}

export async function getUser(ctx: Context, actor: Actor, id: string): Promise<UserView> {
  return presentUser(await requireUser(ctx, actor.tenantId, id));
}

/** Several users of the caller's tenant at once (those that exist), for documents that include them. */
export async function getUsers(ctx: Context, actor: Actor, ids: string[]): Promise<UserView[]> {
  return (await findUsers(ctx.db, actor.tenantId, [...new Set(ids)])).map(presentUser);
}

export async function listUsers(ctx: Context, actor: Actor, query: ListUsersQuery): Promise<Page<UserView>> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  const after = query.cursor
    ? (decodeCursor(query.cursor, ['string', 'string']) as [string, string])
    : undefined;
  const rows = await listUserRows(ctx.db, actor.tenantId, {
    ...(query.username !== undefined ? { username: query.username } : {}),
    ...(query.q !== undefined ? { q: query.q } : {}),
    ...(after ? { after } : {}),
    limit: limit + 1,
  });
  return pageOf(rows, limit, presentUser, (row) => [row.username.toLowerCase(), row.id]);
}

export interface NumberedUserBody {
  username: string;
  displayName?: string | null;
  status?: UserStatus;
  statusText?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  email?: string | null;
}

/**
 * Creates a user whose id is the tenant's next whole number ("1", "2", ...), for dialects whose clients expect
 * integer ids. Admin only, like `createUser`; a taken username is a conflict.
 */
export async function createNumberedUser(
  ctx: Context,
  actor: Actor,
  body: NumberedUserBody,
): Promise<UserView> {
  if (!actor.isAdmin) {
    throw forbidden('only a tenant administrator may create users');
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const row = await insertNumberedUser(ctx.db, {
        tenant_id: actor.tenantId,
        username: body.username,
        display_name: body.displayName ?? null,
        status: body.status ?? 'offline',
        status_text: body.statusText ?? null,
        given_name: body.givenName ?? null,
        family_name: body.familyName ?? null,
        email: body.email ?? null,
      });
      return presentUser(row);
    } catch (error) {
      const constraint = uniqueViolation(error);
      if (constraint === 'users_username_key') {
        throw conflict(`username: "${body.username}" is already taken`);
      }
      // Another insert took the same number at the same moment: the next attempt computes the next one.
      if (constraint === null || attempt >= 10) {
        throw error;
      }
    }
  }
}

export interface NewTokenTenantWithUsers extends NewTokenTenant {
  /** Users created with the tenant, in the same transaction (a dialect's system user). */
  users: { id: string; username: string; displayName: string }[];
}

/** A new tenant with an unguessable token, and its first users, in one transaction. */
export async function createTokenTenant(ctx: Context, input: NewTokenTenantWithUsers): Promise<TenantView> {
  const row = await ctx.db.transaction().execute(async (trx) => {
    const tenant = await insertTokenTenant(trx, input);
    for (const user of input.users) {
      await insertUser(trx, {
        tenant_id: tenant.id,
        id: user.id,
        username: user.username,
        display_name: user.displayName,
        status_text: null,
      });
    }
    return tenant;
  });
  return presentTenant(row);
}
