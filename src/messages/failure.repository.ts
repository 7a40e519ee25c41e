import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { FailedSendRow } from './failure.table.ts';

/** Forgets the failures older than `keepSeconds`, at most `max` of them, oldest first. */
export async function deleteExpiredFailures(db: Db, keepSeconds: number, max: number): Promise<void> {
  await sql`
    delete from failed_sends
     where (tenant_id, id) in (
       select tenant_id, id from failed_sends
        where failed_at < now() - make_interval(secs => ${keepSeconds})
        order by failed_at
        limit ${max})`.execute(db);
}

export async function insertFailure(
  db: Db,
  row: { tenant_id: string; id: string; error_type: string; error_message: string },
): Promise<void> {
  await db.insertInto('failed_sends').values(row).execute();
}

/** The failure recorded under `id`, unless it has expired. */
export async function findFailure(
  db: Db,
  tenantId: string,
  id: string,
  keepSeconds: number,
): Promise<FailedSendRow | undefined> {
  return db
    .selectFrom('failed_sends')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('failed_at', '>=', sql<Date>`now() - make_interval(secs => ${keepSeconds})`)
    .executeTakeFirst();
}
