import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Filter, FilterCondition } from '../messages/message.filter.ts';
import { countRows, filterSql, orderSql } from '../db/sql/filter.ts';
import type { RecipientFilterField } from './recipient.table.ts';
import { UNPREPARED } from '../db/statements.ts';

/** One recipient of one message: a member of its chat other than its author, with that member's state. */
export interface RecipientRow {
  message_id: string;
  chat_id: string;
  seq: number;
  user_id: string;
  author_id: string;
  is_read: boolean;
  is_favorite: boolean;
  is_forwarded: boolean;
  forwarded_by: string | null;
  /** Who last changed the state: the member or the sender; null when nobody has. */
  updated_by: string | null;
  created_at: Date;
  modified_at: Date;
}

const FIELDS: Record<RecipientFilterField, RawBuilder<unknown>> = {
  messageId: sql`m.id`,
  chatId: sql`m.chat_id`,
  recipientId: sql`r.user_id`,
  authorId: sql`m.author_id`,
  isRead: sql`(m.seq <= r.last_read_seq)`,
  isFavorite: sql`coalesce(f.is_favorite, false)`,
  isForwarded: sql`coalesce(f.is_forwarded, false)`,
  forwardedBy: sql`f.forwarded_by`,
  createdAt: sql`date_trunc('milliseconds', m.created_at)`,
  modifiedAt: sql`date_trunc('milliseconds', coalesce(f.updated_at, m.created_at))`,
};

/** Recipients of the live messages of the live chats `userId` belongs to, matching `where`. */
function visibleRecipients(
  tenantId: string,
  userId: string,
  where: FilterCondition<RecipientFilterField> | null,
) {
  return sql`
    from messages m
    join members me on me.chat_id = m.chat_id and me.user_id = ${userId} and me.tenant_id = ${tenantId}
    join chats c on c.id = m.chat_id and c.deleted_at is null
    join members r on r.chat_id = m.chat_id and r.user_id <> m.author_id
    left join message_flags f on f.chat_id = m.chat_id and f.seq = m.seq and f.user_id = r.user_id
    where ${sql.raw(UNPREPARED)} m.deleted_at is null and ${where ? filterSql(where, FIELDS) : sql`true`}`;
}

export async function findRecipients(
  db: Db,
  tenantId: string,
  userId: string,
  filter: Filter<RecipientFilterField>,
): Promise<RecipientRow[]> {
  const order = [...orderSql(filter.order, FIELDS), sql`m.created_at asc`, sql`m.id asc`, sql`r.user_id asc`];
  const result = await sql<RecipientRow>`
    select m.id as message_id, m.chat_id, m.seq, r.user_id, m.author_id, ${FIELDS.isRead} as is_read,
           ${FIELDS.isFavorite} as is_favorite, ${FIELDS.isForwarded} as is_forwarded, f.forwarded_by, f.updated_by, m.created_at,
           coalesce(f.updated_at, m.created_at) as modified_at
    ${visibleRecipients(tenantId, userId, filter.where)}
    order by ${sql.join(order)}
    limit ${filter.limit} offset ${filter.offset}`.execute(db);
  return result.rows;
}

export async function countRecipients(
  db: Db,
  tenantId: string,
  userId: string,
  where: FilterCondition<RecipientFilterField> | null,
): Promise<number> {
  return countRows(db, visibleRecipients(tenantId, userId, where));
}

/** Sets the given flags of one member on one message (creating the row), or clears them all with `null`. */
export async function writeFlags(
  db: Db,
  key: { chatId: string; seq: number; userId: string },
  flags: { isFavorite?: boolean; isForwarded?: boolean; forwardedBy?: string | null } | null,
  by: string | null = null,
): Promise<void> {
  if (flags === null) {
    await db
      .deleteFrom('message_flags')
      .where('chat_id', '=', key.chatId)
      .where('seq', '=', key.seq)
      .where('user_id', '=', key.userId)
      .execute();
    return;
  }
  const values = {
    ...(by !== null ? { updated_by: by } : {}),
    ...(flags.isFavorite !== undefined ? { is_favorite: flags.isFavorite } : {}),
    ...(flags.isForwarded !== undefined ? { is_forwarded: flags.isForwarded } : {}),
    ...(flags.forwardedBy !== undefined ? { forwarded_by: flags.forwardedBy } : {}),
  };
  await db
    .insertInto('message_flags')
    .values({ chat_id: key.chatId, seq: key.seq, user_id: key.userId, ...values })
    .onConflict((oc) =>
      oc.columns(['chat_id', 'seq', 'user_id']).doUpdateSet({ ...values, updated_at: sql<Date>`now()` }),
    )
    .execute();
}
