import { sql, type Kysely } from 'kysely';
import { createFunctionStatement, sendFunction } from '../../messages/message.sql.ts';
import { quotedCurrentSchema } from './schema.ts';

/**
 * Deleted users (docs/users.md, "Deletion"). The row stays as a tombstone, so the messages that name the user as
 * their author still resolve to someone, and the id can never be provisioned again: `deleted_at` marks it (the
 * personal fields are erased by the deletion itself). And `parley_send` learns the outcome `closed`: a direct chat
 * whose other member was deleted stays readable and takes no new message (`src/messages/message.sql.ts`, whose text
 * this installs; same arguments and result, so a process of the previous version keeps calling it).
 */
export const installs = { sendFunction: '2902185a0b8330c1f503143d5cc2eb303fa343425773c6f253c449dcc399165c' };

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users add column deleted_at timestamptz`.execute(db);
  const s = await quotedCurrentSchema(db);
  await sql.raw(createFunctionStatement(s, sendFunction(s))).execute(db);
}

/** The column goes; the send function stays as installed (the previous text is not kept anywhere to restore). */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users drop column if exists deleted_at`.execute(db);
}
