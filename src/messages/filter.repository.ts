import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
import { countRows, filterSql, orderSql } from '../db/sql/filter.ts';
import { UNPREPARED } from '../db/statements.ts';
import type { MessageCondition, MessageFilter, MessageFilterField } from './message.filter.ts';
import { MESSAGE_COLUMNS } from './message.repository.ts';
import type { MessageRow } from './message.table.ts';

/** A message with what dialects show beside it: its chat's kind, the replied-to message's id, a direct recipient. */
export interface MessageInContextRow extends MessageRow {
  chat_kind: 'direct' | 'group';
  parent_id: string | null;
  recipient_id: string | null;
  subject: string | null;
  status: number;
  channel_type: string | null;
}

const FILTER_FIELDS: Record<MessageFilterField, RawBuilder<unknown>> = {
  id: sql`m.id`,
  text: sql`m.text`,
  chatId: sql`m.chat_id`,
  chatKind: sql`c.kind`,
  authorId: sql`m.author_id`,
  // At the precision clients see (ISO strings carry milliseconds): `gt` a createdOn it was given excludes that row.
  createdAt: sql`date_trunc('milliseconds', m.created_at)`,
  modifiedAt: sql`date_trunc('milliseconds', coalesce(m.edited_at, m.created_at))`,
  parentId: sql`p.id`,
  recipientId: sql`r.user_id`,
  subject: sql`x.subject`,
  status: sql`coalesce(x.status, 0)`,
  // As the client sent it; messages sent otherwise show their chat's kind.
  channelType: sql`coalesce(x.channel_type, c.kind)`,
};

/** The live messages of the live chats `userId` belongs to, with their context, matching `where`. */
function visibleMessages(tenantId: string, userId: string, where: MessageCondition | null) {
  return sql`
    from messages m
    join members me on me.chat_id = m.chat_id and me.user_id = ${userId} and me.tenant_id = ${tenantId}
    join chats c on c.id = m.chat_id and c.deleted_at is null
    left join messages p on p.chat_id = m.chat_id and p.seq = m.reply_to
    left join message_properties x on x.chat_id = m.chat_id and x.seq = m.seq
    left join lateral (
      select o.user_id from members o
      where c.kind = 'direct' and o.chat_id = m.chat_id and o.user_id <> m.author_id
      order by o.user_id limit 1
    ) r on true
    where ${sql.raw(UNPREPARED)} m.deleted_at is null and ${where ? filterSql(where, FILTER_FIELDS) : sql`true`}`;
}

export async function findMessagesFiltered(
  db: Db,
  tenantId: string,
  userId: string,
  filter: MessageFilter,
): Promise<MessageInContextRow[]> {
  const order = [...orderSql(filter.order, FILTER_FIELDS), sql`m.created_at asc`, sql`m.id asc`];
  const result = await sql<MessageInContextRow>`
    select ${sql.join(MESSAGE_COLUMNS.map((column) => sql.ref(`m.${column}`)))},
           c.kind as chat_kind, p.id as parent_id, r.user_id as recipient_id,
           x.subject, coalesce(x.status, 0) as status, x.channel_type
    ${visibleMessages(tenantId, userId, filter.where)}
    order by ${sql.join(order)}
    limit ${filter.limit} offset ${filter.offset}`.execute(db);
  return result.rows;
}

export async function countMessagesFiltered(
  db: Db,
  tenantId: string,
  userId: string,
  where: MessageCondition | null,
): Promise<number> {
  return countRows(db, visibleMessages(tenantId, userId, where));
}

/** What a SourceLoop client sent with a message beyond its text; only what is given changes. */
export interface MessageProperties {
  subject?: string | null;
  status?: number;
  channelType?: string | null;
}

export async function writeMessageProperties(
  db: Db,
  key: { chatId: string; seq: number },
  properties: MessageProperties,
): Promise<void> {
  const values = {
    ...(properties.subject !== undefined ? { subject: properties.subject } : {}),
    ...(properties.status !== undefined ? { status: properties.status } : {}),
    ...(properties.channelType !== undefined ? { channel_type: properties.channelType } : {}),
  };
  if (Object.keys(values).length === 0) {
    return;
  }
  await db
    .insertInto('message_properties')
    .values({ chat_id: key.chatId, seq: key.seq, ...values })
    .onConflict((oc) => oc.columns(['chat_id', 'seq']).doUpdateSet(values))
    .execute();
}
