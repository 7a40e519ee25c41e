import type { Db } from '../db/database.ts';
import type { TenantRow } from './tenant.table.ts';

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
