import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { NewUserRow, UserRow, UserUpdate } from './user.table.ts';

export async function findUser(db: Db, tenantId: string, id: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** The tenant's users among `ids`. */
export async function findUsers(db: Db, tenantId: string, ids: string[]): Promise<UserRow[]> {
  if (ids.length === 0) {
    return [];
  }
  return db
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', ids)
    .execute();
}

/** The first key of Parley's advisory locks: the second is a hash of what is locked. */
const USER_LOCK_SPACE = 0x70617231;

/**
 * Serialises, until the transaction ends, whatever else takes these users' locks: the chat count checks of creating
 * and joining chats. Transaction-scoped advisory locks, one per tenant and user, taken in one order (of their keys)
 * so that two transactions locking overlapping users cannot deadlock. Row locks on `users` would do it too, but would
 * also wait for (and be waited on by) presence updates of the same rows. A hash collision only makes two users wait
 * for each other, never lets anything through.
 */
export async function lockUsers(db: Db, tenantId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) {
    return;
  }
  await sql`
    select pg_advisory_xact_lock(${USER_LOCK_SPACE}, k.key)
    from (select distinct hashtext(${tenantId} || '/' || u) as key from unnest(${ids}::text[]) as u) k
    order by k.key`.execute(db);
}

/** Which of `ids` exist in the tenant and are not deleted: the users who may join chats. */
export async function existingUserIds(db: Db, tenantId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) {
    return new Set();
  }
  const rows = await db
    .selectFrom('users')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', ids)
    .where('deleted_at', 'is', null)
    .execute();
  return new Set(rows.map((r) => r.id));
}

/** Inserts unless the id or the username is taken; returns the row, or undefined when either was. */
export async function insertUserIfAbsent(db: Db, user: NewUserRow): Promise<UserRow | undefined> {
  return db
    .insertInto('users')
    .values(user)
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function insertUser(db: Db, user: NewUserRow): Promise<UserRow> {
  return db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow();
}

export async function updateUser(
  db: Db,
  tenantId: string,
  id: string,
  changes: UserUpdate,
): Promise<UserRow | undefined> {
  return db
    .updateTable('users')
    .set(changes)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** Escapes LIKE wildcards so user input matches literally. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export interface UserFilter {
  username?: string;
  q?: string;
  /** Keyset: rows after (lower(username), id). */
  after?: [string, string];
  limit: number;
}

/** The tenant directory in username order; deleted users are not in it. */
export async function listUsers(db: Db, tenantId: string, filter: UserFilter): Promise<UserRow[]> {
  let query = db
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('deleted_at', 'is', null);
  if (filter.username !== undefined) {
    query = query.where(sql<string>`lower(username)`, '=', filter.username.toLowerCase());
  }
  if (filter.q !== undefined) {
    const pattern = `%${likeLiteral(filter.q)}%`;
    query = query.where((eb) =>
      eb.or([
        eb('username', 'ilike', pattern),
        eb('display_name', 'ilike', pattern),
        eb('id', '=', filter.q!),
      ]),
    );
  }
  if (filter.after) {
    const [name, id] = filter.after;
    query = query.where(sql<boolean>`(lower(username), id) > (${name}, ${id})`);
  }
  return query
    .orderBy(sql`lower(username)`)
    .orderBy('id')
    .limit(filter.limit)
    .execute();
}

/**
 * Marks a live user deleted and erases what the row holds about the person: display name and status text, and the
 * username, which becomes `#deleted:<id>` (outside the username alphabet, so it frees the name and never collides
 * with a real one). Returns the tombstone, or undefined when there is no such live user.
 */
export async function tombstoneUser(db: Db, tenantId: string, id: string): Promise<UserRow | undefined> {
  const result = await sql<UserRow>`
    update users
       set deleted_at = now(), username = '#deleted:' || id, display_name = null, status_text = null,
           status = 'offline'
     where tenant_id = ${tenantId} and id = ${id} and deleted_at is null
    returning *`.execute(db);
  return result.rows[0];
}

/**
 * Inserts a user whose id is the next whole number among the tenant's numeric ids, computed inside the insert.
 * Two concurrent inserts may pick the same number: the loser fails on the primary key and the caller retries.
 */
export async function insertNumberedUser(db: Db, user: Omit<NewUserRow, 'id'>): Promise<UserRow> {
  const result = await sql<UserRow>`
    insert into users (tenant_id, id, username, display_name, status, status_text, given_name, family_name, email)
    select ${user.tenant_id}, (coalesce(max(id::bigint), 0) + 1)::text, ${user.username},
           ${user.display_name ?? null}, ${user.status ?? 'offline'}, ${user.status_text ?? null},
           ${user.given_name ?? null}, ${user.family_name ?? null}, ${user.email ?? null}
    from users where tenant_id = ${user.tenant_id} and id ~ '^[1-9][0-9]{0,17}$'
    returning *`.execute(db);
  return result.rows[0]!;
}
