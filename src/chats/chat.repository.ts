import { sql, type RawBuilder } from 'kysely';
import { liveChatOf } from '../db/sql/chats.ts';
import type { Db } from '../db/database.ts';
import { anyUser } from '../db/statements.ts';
import type { MemberRole } from '../members/member.table.ts';
import type { MessageRow } from '../messages/message.table.ts';
import { settingsSql, type SettingsColumns } from '../db/sql/settings.ts';
import { unreadCountSql } from '../db/sql/unread.ts';
import type { ChatWithViewer } from './chat.presenter.ts';
import type { ChatKind, ChatRow, ChatVisibility } from './chat.table.ts';
import { presentSettings } from './settings.presenter.ts';

export interface NewChat {
  id: string;
  tenantId: string;
  kind: ChatKind;
  name: string | null;
  nameKey: string | null;
  topic: string | null;
  visibility: ChatVisibility;
  directKey: string | null;
  createdBy: string;
  memberCount: number;
}

/**
 * Inserts a chat numbered from the tenant's counter, and its first members, in one statement: the counter row's lock
 * orders concurrent creations, and a failed insert (a taken name) rolls the counter back with it, so numbers have no
 * gaps. The counter is the creation's last write: its lock, which every creation in the tenant waits for, is held
 * for this statement and the commit only.
 */
export async function insertChat(
  db: Db,
  chat: NewChat,
  members: { userId: string; role: MemberRole }[],
): Promise<ChatRow> {
  const result = await sql<ChatRow>`
    with counter as (
      update tenants set chat_counter = chat_counter + 1 where id = ${chat.tenantId} returning chat_counter
    ),
    inserted as (
      insert into chats (id, tenant_id, number, kind, name, name_key, topic, visibility, direct_key, created_by,
                         member_count)
      select ${chat.id}, ${chat.tenantId}, counter.chat_counter, ${chat.kind}, ${chat.name}, ${chat.nameKey},
             ${chat.topic}, ${chat.visibility}, ${chat.directKey}, ${chat.createdBy}, ${chat.memberCount}
      from counter
      returning *
    ),
    joined as (
      insert into members (chat_id, tenant_id, user_id, role)
      select c.id, c.tenant_id, m.user_id, m.role
      from inserted c, unnest(${members.map((m) => m.userId)}::text[], ${members.map((m) => m.role)}::text[])
        as m(user_id, role)
    )
    select * from inserted`.execute(db);
  const row = result.rows[0];
  if (!row) {
    throw new Error(`tenant ${chat.tenantId} does not exist`);
  }
  return row;
}

/** The tenant's live chats: every single-chat lookup below starts here. */
function liveChats(db: Db, tenantId: string) {
  return db.selectFrom('chats').selectAll().where('tenant_id', '=', tenantId).where('deleted_at', 'is', null);
}

/** Locks the chat row for the rest of the transaction: member changes of one chat run one at a time. */
export async function lockChat(db: Db, tenantId: string, id: string): Promise<ChatRow | undefined> {
  return liveChats(db, tenantId).where('id', '=', id).forUpdate().executeTakeFirst();
}

/**
 * Locks several live chats, in id order (the order sends lock them in), so that two transactions locking overlapping
 * chats cannot deadlock. Returns the rows locked.
 */
export async function lockChats(db: Db, tenantId: string, ids: string[]): Promise<ChatRow[]> {
  if (ids.length === 0) {
    return [];
  }
  return liveChats(db, tenantId).where('id', 'in', ids).orderBy('id').forUpdate().execute();
}

export async function findDirectChat(
  db: Db,
  tenantId: string,
  directKey: string,
): Promise<ChatRow | undefined> {
  return liveChats(db, tenantId).where('direct_key', '=', directKey).executeTakeFirst();
}

export interface ChatChanges {
  name?: string;
  nameKey?: string | null;
  topic?: string | null;
  visibility?: ChatVisibility;
}

export async function updateChat(db: Db, id: string, changes: ChatChanges): Promise<ChatRow> {
  return db
    .updateTable('chats')
    .set({
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.nameKey !== undefined ? { name_key: changes.nameKey } : {}),
      ...(changes.topic !== undefined ? { topic: changes.topic } : {}),
      ...(changes.visibility !== undefined ? { visibility: changes.visibility } : {}),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function addToMemberCount(db: Db, id: string, delta: number): Promise<ChatRow> {
  return db
    .updateTable('chats')
    .set((eb) => ({ member_count: eb('member_count', '+', delta) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Soft delete; the name and direct pair are released so they can be used again. */
export async function softDeleteChat(db: Db, id: string): Promise<ChatRow> {
  return db
    .updateTable('chats')
    .set({ deleted_at: sql<Date>`now()`, name_key: null, direct_key: null })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

interface ViewerRow extends ChatRow, SettingsColumns {
  role: MemberRole;
  last_read_seq: number;
  unread_count: number;
  activity_us: number;
  lm_id: string | null;
  lm_seq: number | null;
  lm_author_id: string | null;
  lm_text: string | null;
  lm_reply_to: number | null;
  lm_client_id: string | null;
  lm_created_at: Date | null;
  lm_edited_at: Date | null;
  lm_deleted_at: Date | null;
  lm_thread_root: number | null;
  lm_also_in_chat: boolean | null;
  lm_reply_count: number | null;
  lm_last_reply_at: Date | null;
  lm_thread_participants: string[] | null;
}

const LAST_MESSAGE_COLUMNS = sql.raw(
  'x.id, x.seq, x.author_id, x.text, x.reply_to, x.client_id, x.created_at, x.edited_at, x.deleted_at, ' +
    'x.thread_root, x.also_in_chat, x.reply_count, x.last_reply_at, x.thread_participants',
);

export interface ChatListEntry extends ChatWithViewer {
  /** Sort key: last activity in microseconds since the epoch. */
  activityUs: number;
}

function toEntry(row: ViewerRow): ChatListEntry {
  const { role, last_read_seq, unread_count, activity_us, ...rest } = row;
  const settings = presentSettings(row);
  const lastMessage: MessageRow | null =
    row.lm_id === null
      ? null
      : {
          chat_id: row.id,
          id: row.lm_id,
          seq: row.lm_seq as number,
          author_id: row.lm_author_id as string,
          text: row.lm_text,
          reply_to: row.lm_reply_to,
          client_id: row.lm_client_id,
          created_at: row.lm_created_at as Date,
          edited_at: row.lm_edited_at,
          deleted_at: row.lm_deleted_at,
          thread_root: row.lm_thread_root,
          also_in_chat: row.lm_also_in_chat ?? false,
          reply_count: row.lm_reply_count ?? 0,
          last_reply_at: row.lm_last_reply_at,
          thread_participants: row.lm_thread_participants,
        };
  const chat: ChatRow = {
    id: rest.id,
    tenant_id: rest.tenant_id,
    number: rest.number,
    kind: rest.kind,
    name: rest.name,
    name_key: rest.name_key,
    topic: rest.topic,
    visibility: rest.visibility,
    direct_key: rest.direct_key,
    created_by: rest.created_by,
    created_at: rest.created_at,
    last_seq: rest.last_seq,
    message_count: rest.message_count,
    member_count: rest.member_count,
    last_message_at: rest.last_message_at,
    last_deleted_seq: rest.last_deleted_seq,
    history_revision: rest.history_revision,
    change_seq: rest.change_seq,
    last_thread_seq: rest.last_thread_seq,
    deleted_at: rest.deleted_at,
  };
  return {
    chat,
    role,
    lastReadSeq: last_read_seq,
    unreadCount: unread_count,
    lastMessage,
    settings,
    activityUs: activity_us,
  };
}

const ACTIVITY_US = sql`(extract(epoch from coalesce(c.last_message_at, c.created_at)) * 1000000)::bigint`;

/**
 * Chats as one member sees them: role, read cursor, exact unread count (`unreadCountSql`: from counters, reading no
 * messages) and the last live message.
 */
export function viewerQuery(
  tenantId: string,
  userId: string,
  where: RawBuilder<unknown>,
  limit: number,
  order: { by: 'activity' | 'number'; offset: number } = { by: 'activity', offset: 0 },
) {
  const orderBy = order.by === 'number' ? sql`c.number` : sql`activity_us desc, c.id desc`;
  const outerOrder = order.by === 'number' ? sql`p.number` : sql`p.activity_us desc, p.id desc`;
  // Two steps: pick the page of chats from the memberships first, then count unread and fetch the last message
  // for those chats only, not for every chat the user is in.
  return sql<ViewerRow>`
    with page as (
      select c.*, m.role, m.last_read_seq, m.user_id as viewer_id, ${unreadCountSql('m', 'c')} as unread_count,
             ${ACTIVITY_US} as activity_us, ${settingsSql('m', 'c')}
      from members m
      join ${liveChatOf('m')} c on true
      where m.tenant_id = ${tenantId} and m.user_id = ${anyUser(userId)} and ${where}
      order by ${orderBy}
      limit ${limit} offset ${order.offset}
    )
    select p.*,
      lm.id as lm_id, lm.seq as lm_seq, lm.author_id as lm_author_id, lm.text as lm_text,
      lm.reply_to as lm_reply_to, lm.client_id as lm_client_id, lm.created_at as lm_created_at,
      lm.edited_at as lm_edited_at, lm.deleted_at as lm_deleted_at, lm.thread_root as lm_thread_root,
      lm.also_in_chat as lm_also_in_chat, lm.reply_count as lm_reply_count, lm.last_reply_at as lm_last_reply_at,
      lm.thread_participants as lm_thread_participants
    from page p
    left join lateral (
      -- The last message is live and in the main history unless a deleted one or a thread-only reply is at
      -- last_seq: then one key lookup; else the scan down.
      select ${LAST_MESSAGE_COLUMNS}
      from messages x where x.chat_id = p.id and x.seq = p.last_seq and p.last_deleted_seq < p.last_seq
        and p.last_thread_seq < p.last_seq
      union all
      (select ${LAST_MESSAGE_COLUMNS}
       from messages x where x.chat_id = p.id and p.last_seq > 0
        and (p.last_deleted_seq >= p.last_seq or p.last_thread_seq >= p.last_seq)
        and x.deleted_at is null and (x.thread_root is null or x.also_in_chat)
       order by x.seq desc limit 1)
    ) lm on true
    order by ${outerOrder}`;
}

export async function listChatsForUser(
  db: Db,
  tenantId: string,
  userId: string,
  page: { before?: [number, string]; limit: number; archived?: boolean; includeHidden?: boolean },
): Promise<ChatListEntry[]> {
  const after = page.before
    ? sql`(${ACTIVITY_US}, c.id) < (${page.before[0]}, ${page.before[1]})`
    : sql`true`;
  // Archived chats, or the others; hidden ones (no message since they were hidden) only when asked for.
  const hidden = page.includeHidden ? sql`true` : sql`not coalesce(c.last_seq <= m.hidden_through, false)`;
  const where = sql`${after} and m.archived = ${page.archived ?? false} and ${hidden}`;
  const result = await viewerQuery(tenantId, userId, where, page.limit).execute(db);
  return result.rows.map(toEntry);
}

export async function findChatForUser(
  db: Db,
  tenantId: string,
  chatId: string,
  userId: string,
): Promise<ChatListEntry | undefined> {
  const result = await viewerQuery(tenantId, userId, sql`c.id = ${chatId}`, 1).execute(db);
  const row = result.rows[0];
  return row ? toEntry(row) : undefined;
}

/** The user's chats in number order, a page at a time by offset (for dialects that page by number). */
export async function listChatsForUserByNumber(
  db: Db,
  tenantId: string,
  userId: string,
  page: { offset: number; limit: number; afterNumber?: number },
): Promise<ChatListEntry[]> {
  const where = page.afterNumber === undefined ? sql`true` : sql`c.number > ${page.afterNumber}`;
  const result = await viewerQuery(tenantId, userId, where, page.limit, {
    by: 'number',
    offset: page.offset,
  }).execute(db);
  return result.rows.map(toEntry);
}

export async function findChatForUserByNumber(
  db: Db,
  tenantId: string,
  number: number,
  userId: string,
): Promise<ChatListEntry | undefined> {
  const result = await viewerQuery(tenantId, userId, sql`c.number = ${number}`, 1).execute(db);
  const row = result.rows[0];
  return row ? toEntry(row) : undefined;
}

/** A live chat of the tenant, whoever asks: for dialects that address chats without a member acting. */
export async function findChat(db: Db, tenantId: string, id: string): Promise<ChatRow | undefined> {
  return liveChats(db, tenantId).where('id', '=', id).executeTakeFirst();
}

/** A live chat of the tenant by its number. */
export async function findChatByNumber(
  db: Db,
  tenantId: string,
  number: number,
): Promise<ChatRow | undefined> {
  return liveChats(db, tenantId).where('number', '=', number).executeTakeFirst();
}

/** The tenant's live public groups, by number. */
export async function listPublicGroups(db: Db, tenantId: string): Promise<ChatRow[]> {
  return db
    .selectFrom('chats')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('kind', '=', 'group')
    .where('visibility', '=', 'public')
    .where('deleted_at', 'is', null)
    .orderBy('number')
    .execute();
}
