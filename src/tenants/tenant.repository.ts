import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { TenantRow, TenantSettings } from './tenant.table.ts';

/** Tenants are created on first sight of their id in a verified token. */
export async function ensureTenant(db: Db, id: string): Promise<void> {
  await db
    .insertInto('tenants')
    .values({ id, name: id })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

export async function findTenant(db: Db, id: string): Promise<TenantRow | undefined> {
  return db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface NewTenant {
  id: string;
  name: string;
  token: string;
  settings: TenantSettings;
}

export async function insertTenant(db: Db, tenant: NewTenant): Promise<TenantRow> {
  return db.insertInto('tenants').values(tenant).returningAll().executeTakeFirstOrThrow();
}

export async function findTenantByToken(db: Db, token: string): Promise<TenantRow | undefined> {
  return db.selectFrom('tenants').selectAll().where('token', '=', token).executeTakeFirst();
}

/** Tenants that carry a token, oldest first. */
export async function listTokenTenants(
  db: Db,
  page: { offset: number; limit: number },
): Promise<TenantRow[]> {
  return db
    .selectFrom('tenants')
    .selectAll()
    .where('token', 'is not', null)
    .orderBy('created_at')
    .orderBy('id')
    .offset(page.offset)
    .limit(page.limit)
    .execute();
}

/** The next `limit` tenants with a token after the one with id `afterId` (null: from the first), in creation order. */
export async function listTokenTenantsAfter(
  db: Db,
  afterId: string | null,
  limit: number,
): Promise<TenantRow[]> {
  const after =
    afterId === null
      ? sql`true`
      : sql`(created_at, id) > (select t.created_at, t.id from tenants t where t.id = ${afterId})`;
  return db
    .selectFrom('tenants')
    .selectAll()
    .where('token', 'is not', null)
    .where(after.$castTo<boolean>())
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

export async function renameTenant(db: Db, id: string, name: string): Promise<TenantRow> {
  return db
    .updateTable('tenants')
    .set({ name, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}
