import { sql, type Kysely } from 'kysely';
import { createFunctionStatement, sendFunction } from '../../messages/message.sql.ts';
import { quotedCurrentSchema } from './schema.ts';

/**
 * The send function (`parley_send_v2`) runs its statements with generic plans (`set plan_cache_mode`): the same
 * text, arguments and result, so a process of the previous version keeps calling it. Before, PostgreSQL planned the
 * function's large statement again on every call (docs/performance.md).
 */
export const installs = { sendFunction: '40e6fd8d8fdb8116b4a1348c15e13075451ffbde407fd48bd6d89a56f7abc644' };

export async function up(db: Kysely<unknown>): Promise<void> {
  const s = await quotedCurrentSchema(db);
  await sql.raw(createFunctionStatement(s, sendFunction(s))).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const s = await quotedCurrentSchema(db);
  const fn = sendFunction(s);
  await sql.raw(`alter function ${s}.${fn.name}(${fn.arguments}) reset plan_cache_mode`).execute(db);
}
