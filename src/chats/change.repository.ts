import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/**
 * Records a change to a chat in the caller's transaction, in one statement: the chat's `change_seq` advances and
 * the row is written with it. The update holds the chat's row lock to the end of the transaction, so revs are
 * gapless per chat and commit in order. Returns the change's rev (null when there is no such chat).
 */
export async function insertChange(
  db: Db,
  chatId: string,
  type: string,
  payload: object,
): Promise<number | null> {
  const result = await sql<{ rev: number }>`
    with bumped as (
      update chats set change_seq = change_seq + 1 where id = ${chatId} returning change_seq
    )
    insert into chat_changes (chat_id, rev, type, payload)
    select ${chatId}, change_seq, ${type}, ${JSON.stringify(payload)}::jsonb from bumped
    returning rev`.execute(db);
  return result.rows[0]?.rev ?? null;
}

export interface ChangesAfter {
  /** The chat's last rev now (null: no such chat). */
  changeSeq: number | null;
  /** The retained changes after the given rev, in rev order. */
  changes: { rev: number; type: string; payload: Record<string, unknown> }[];
}

/** The chat's changes after `after`, up to `limit`, with the chat's current last rev (one statement). */
export async function changesAfter(
  db: Db,
  chatId: string,
  after: number,
  limit: number,
): Promise<ChangesAfter> {
  const result = await sql<{
    change_seq: number;
    rev: number | null;
    type: string | null;
    payload: Record<string, unknown> | string | null;
  }>`
    select c.change_seq, x.rev, x.type, x.payload
    from chats c
    left join lateral (
      select rev, type, payload from chat_changes
      where chat_id = c.id and rev > ${after}
      order by rev
      limit ${limit}
    ) x on true
    where c.id = ${chatId}
    order by x.rev`.execute(db);
  const first = result.rows[0];
  if (!first) {
    return { changeSeq: null, changes: [] };
  }
  const changes = [];
  for (const row of result.rows) {
    if (row.rev === null || row.type === null || row.payload === null) {
      continue;
    }
    const payload =
      typeof row.payload === 'string' ? (JSON.parse(row.payload) as Record<string, unknown>) : row.payload;
    changes.push({ rev: row.rev, type: row.type, payload });
  }
  return { changeSeq: first.change_seq, changes };
}

/** The chat's last seq and last rev: where a stream joining it starts. */
export async function streamPosition(
  db: Db,
  chatId: string,
): Promise<{ last_seq: number; change_seq: number } | undefined> {
  return db
    .selectFrom('chats')
    .select(['last_seq', 'change_seq'])
    .where('id', '=', chatId)
    .executeTakeFirst();
}

/** Deletes up to `limit` changes recorded before `before`; returns how many. */
export async function deleteChangesBefore(db: Db, before: Date, limit: number): Promise<number> {
  const result = await sql`
    delete from chat_changes where ctid in (
      select ctid from chat_changes where created_at < ${before} limit ${limit}
    )`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
