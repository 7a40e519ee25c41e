import { sql, type Kysely } from 'kysely';
import { createFunctionStatement, sendFunction } from '../../messages/message.sql.ts';
import { quotedCurrentSchema } from './schema.ts';

/**
 * `parley_send`: the send as one server-side function that judges every send of a batch and says what became of
 * each (written, duplicate, not_found, bad_reply), so that the batch is the only way a message is written. Its
 * source, with its rules explained, is `src/messages/message.sql.ts`; this migration installs it.
 *
 * A database migrated before a later change to the source keeps what this migration installed: such a change comes
 * with a migration of its own that installs the new text and records its digest, as `installs` does here (the test
 * `test/send-outcomes.test.ts` compares the source's digest with the newest one recorded).
 *
 * `parley_send_batch` (migration 0009) stays: a process of the previous version, during a rolling upgrade, still
 * calls it.
 */
export const installs = { sendFunction: 'c0e3606b63b6f3022bc31965ead4e8f2c1b74c3efb89a152f38fc48da38d2bdc' };

export async function up(db: Kysely<unknown>): Promise<void> {
  const s = await quotedCurrentSchema(db);
  await sql.raw(createFunctionStatement(s, sendFunction(s))).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists parley_send(text[], text[], text[], text[], text[], bigint[], text[])`.execute(
    db,
  );
}
