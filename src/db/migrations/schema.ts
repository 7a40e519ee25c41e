import { sql, type Kysely } from 'kysely';

/**
 * The schema the migration runs in (`DB_SCHEMA`, else `public`), quoted as an identifier: functions and triggers
 * name their tables with it, so they work whatever the search_path of the session that later calls them.
 */
export async function quotedCurrentSchema(db: Kysely<unknown>): Promise<string> {
  const current = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return `"${(current.rows[0]?.schema ?? 'public').replace(/"/g, '""')}"`;
}
