import { sql, type RawBuilder } from 'kysely';
import { liveChatOf } from '../db/sql/chats.ts';
import type { Db } from '../db/database.ts';
import { anyUser } from '../db/statements.ts';
import type { MemberRole, MemberRow } from '../members/member.table.ts';
import type { ChatRow } from './chat.table.ts';

/** Membership rows as the chats feature reads and writes them: who is in a chat, created with it or added later. */

export async function insertMembers(
  db: Db,
  chatId: string,
  tenantId: string,
  members: { userId: string; role: MemberRole }[],
): Promise<MemberRow[]> {
  if (members.length === 0) {
    return [];
  }
  return db
    .insertInto('members')
    .values(members.map((m) => ({ chat_id: chatId, tenant_id: tenantId, user_id: m.userId, role: m.role })))
    .returningAll()
    .execute();
}

export async function findMember(db: Db, chatId: string, userId: string): Promise<MemberRow | undefined> {
  return db
    .selectFrom('members')
    .selectAll()
    .where('chat_id', '=', chatId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

export function countChatsQuery(tenantId: string, userId: string) {
  return sql<{ count: number }>`
    select count(*)::int as count from members m join ${liveChatOf('m')} c on true
    where m.tenant_id = ${tenantId} and m.user_id = ${anyUser(userId)}`;
}

/** How many live chats the user belongs to. */
export async function countChatsForUser(db: Db, tenantId: string, userId: string): Promise<number> {
  const result = await countChatsQuery(tenantId, userId).execute(db);
  return result.rows[0]?.count ?? 0;
}

/**
 * How many memberships each of `userIds` has, in live chats or deleted ones (a deleted chat keeps its members): an
 * upper bound of `countChatsOfUsers` read from the memberships index alone, without looking up a chat.
 */
export function countMembershipsOfUsers(
  db: Db,
  tenantId: string,
  userIds: string[],
): Promise<Map<string, number>> {
  return countPerUser(db, tenantId, userIds, sql``);
}

/** How many live chats each of `userIds` belongs to; a user in none is not in the map. */
export function countChatsOfUsers(db: Db, tenantId: string, userIds: string[]): Promise<Map<string, number>> {
  return countPerUser(db, tenantId, userIds, sql`join ${liveChatOf('m')} c on true`);
}

async function countPerUser(
  db: Db,
  tenantId: string,
  userIds: string[],
  join: RawBuilder<unknown>,
): Promise<Map<string, number>> {
  if (userIds.length === 0) {
    return new Map();
  }
  const result = await sql<{ user_id: string; count: number }>`
    select m.user_id, count(*)::int as count
    from members m ${join}
    where m.tenant_id = ${tenantId} and m.user_id = any(${userIds}::text[])
    group by m.user_id`.execute(db);
  return new Map(result.rows.map((row) => [row.user_id, row.count]));
}

/** A live chat of the tenant together with the user's membership of it, in one index lookup each. */
export async function findMembership(
  db: Db,
  tenantId: string,
  chatId: string,
  userId: string,
): Promise<{ chat: ChatRow; member: MemberRow } | undefined> {
  const result = await sql<
    ChatRow & {
      m_role: MemberRole;
      m_joined_at: Date;
      m_last_read_seq: number;
      m_last_read_at: Date | null;
      m_own_after_read: number;
      m_tenant_id: string;
      m_muted_until: Date | null;
      m_archived: boolean;
      m_hidden_through: number | null;
    }
  >`
    select c.*, m.role as m_role, m.joined_at as m_joined_at, m.last_read_seq as m_last_read_seq,
           m.last_read_at as m_last_read_at, m.own_after_read as m_own_after_read, m.tenant_id as m_tenant_id,
           m.muted_until as m_muted_until, m.archived as m_archived, m.hidden_through as m_hidden_through
    from chats c join members m on m.chat_id = c.id and m.user_id = ${userId}
    where c.id = ${chatId} and c.tenant_id = ${tenantId} and c.deleted_at is null`.execute(db);
  const row = result.rows[0];
  if (!row) {
    return undefined;
  }
  const {
    m_role,
    m_joined_at,
    m_last_read_seq,
    m_last_read_at,
    m_own_after_read,
    m_tenant_id,
    m_muted_until,
    m_archived,
    m_hidden_through,
    ...chat
  } = row;
  return {
    chat,
    member: {
      chat_id: chat.id,
      tenant_id: m_tenant_id,
      user_id: userId,
      role: m_role,
      joined_at: m_joined_at,
      last_read_seq: m_last_read_seq,
      last_read_at: m_last_read_at,
      own_after_read: m_own_after_read,
      muted_until: m_muted_until,
      archived: m_archived,
      hidden_through: m_hidden_through,
    },
  };
}

export interface Subscription {
  chat_id: string;
  last_seq: number;
  change_seq: number;
}

/** The live chats of a user, with where each one's seq and rev stand now: what a new connection subscribes to. */
export async function listSubscriptions(db: Db, tenantId: string, userId: string): Promise<Subscription[]> {
  const result = await sql<Subscription>`
    select m.chat_id, c.last_seq, c.change_seq
    from members m join ${liveChatOf('m')} c on true
    where m.tenant_id = ${tenantId} and m.user_id = ${anyUser(userId)}`.execute(db);
  return result.rows;
}
