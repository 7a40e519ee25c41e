import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { unreadCountSql } from '../db/sql/unread.ts';
import type { ChatKind } from '../chats/chat.table.ts';
import type { MemberRole, MemberRow } from './member.table.ts';

export async function listMembers(
  db: Db,
  chatId: string,
  page: { after?: string; limit: number },
): Promise<MemberRow[]> {
  let query = db.selectFrom('members').selectAll().where('chat_id', '=', chatId);
  if (page.after !== undefined) {
    query = query.where('user_id', '>', page.after);
  }
  return query.orderBy('user_id').limit(page.limit).execute();
}

export async function updateRole(
  db: Db,
  chatId: string,
  userId: string,
  role: MemberRole,
): Promise<MemberRow> {
  return db
    .updateTable('members')
    .set({ role })
    .where('chat_id', '=', chatId)
    .where('user_id', '=', userId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteMember(db: Db, chatId: string, userId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('members')
    .where('chat_id', '=', chatId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Every membership of a user in the tenant (of live and deleted chats alike), by chat id. */
export async function listMembershipsOfUser(db: Db, tenantId: string, userId: string): Promise<MemberRow[]> {
  return db
    .selectFrom('members')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .orderBy('chat_id')
    .execute();
}

export async function countOwners(db: Db, chatId: string): Promise<number> {
  const row = await db
    .selectFrom('members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('chat_id', '=', chatId)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Who inherits ownership: the longest-standing admin, else the longest-standing member. */
export async function findSuccessor(db: Db, chatId: string): Promise<MemberRow | undefined> {
  return db
    .selectFrom('members')
    .selectAll()
    .where('chat_id', '=', chatId)
    .orderBy(sql`case role when 'owner' then 0 when 'admin' then 1 else 2 end`)
    .orderBy('joined_at')
    .orderBy('user_id')
    .limit(1)
    .executeTakeFirst();
}

export interface ReadCursor {
  last_read_seq: number;
  /** When the cursor last moved forward (milliseconds); null if it has not since migration 0018. */
  last_read_at: Date | null;
  unread_count: number;
  /** Whether this call moved the cursor. */
  moved: boolean;
}

/**
 * Moves the read cursor forward only, stamping when it moved, and takes the member's own messages it passes off
 * `own_after_read`; returns the cursor and unread count as they stand after the move, and whether it moved, or
 * undefined for a non-member. The cursor before the move is read under the row's lock (`old`), so of calls racing
 * to the same seq exactly one says it moved. `seq` must not exceed a `last_seq` the caller has seen: every message
 * up to it is then committed and counted here.
 */
export async function advanceReadCursor(
  db: Db,
  chatId: string,
  userId: string,
  seq: number,
): Promise<ReadCursor | undefined> {
  const result = await sql<ReadCursor>`
    with old as (
      select last_read_seq from members where chat_id = ${chatId} and user_id = ${userId} for no key update
    )
    update members m
       set last_read_seq = greatest(m.last_read_seq, ${seq}),
           last_read_at = case when ${seq} > m.last_read_seq then date_trunc('milliseconds', now())
                               else m.last_read_at end,
           own_after_read = m.own_after_read - (
             select count(*) from messages x
              where x.chat_id = m.chat_id and x.author_id = m.user_id
                and x.seq > m.last_read_seq and x.seq <= ${seq})
      from chats c, old o
     where m.chat_id = ${chatId} and m.user_id = ${userId} and c.id = m.chat_id
    returning m.last_read_seq, m.last_read_at, ${unreadCountSql('m', 'c')} as unread_count,
              m.last_read_seq > o.last_read_seq as moved`.execute(db);
  return result.rows[0];
}

/**
 * The members of the chat whose read cursor is at `seq` or past it, but `except` (a message's author), by user id
 * after `after`: who has seen the message.
 */
export async function readersOf(
  db: Db,
  chatId: string,
  seq: number,
  except: string,
  after: string | undefined,
  limit: number,
): Promise<Pick<MemberRow, 'user_id' | 'last_read_seq' | 'last_read_at'>[]> {
  let query = db
    .selectFrom('members')
    .select(['user_id', 'last_read_seq', 'last_read_at'])
    .where('chat_id', '=', chatId)
    .where('last_read_seq', '>=', seq)
    .where('user_id', '<>', except);
  if (after !== undefined) {
    query = query.where('user_id', '>', after);
  }
  return query.orderBy('user_id').limit(limit).execute();
}

/**
 * The members of several chats, each chat's owners first, then by join time and id; only chats `viewerId` is in.
 */
export async function listMembersOfChats(db: Db, chatIds: string[], viewerId: string): Promise<MemberRow[]> {
  if (chatIds.length === 0) {
    return [];
  }
  return db
    .selectFrom('members')
    .selectAll()
    .where('chat_id', 'in', chatIds)
    .where('chat_id', 'in', (eb) =>
      eb.selectFrom('members as v').select('v.chat_id').where('v.user_id', '=', viewerId),
    )
    .orderBy('chat_id')
    .orderBy(sql`role = 'owner'`, 'desc')
    .orderBy('joined_at')
    .orderBy('user_id')
    .execute();
}

/** The members of one chat with their usernames, in the order of `listMembersOfChats`; none unless `viewerId` is in it. */
export async function listNamedMembers(
  db: Db,
  chatId: string,
  viewerId: string,
): Promise<
  (MemberRow & { username: string; chat_number: number; chat_kind: ChatKind; chat_name: string | null })[]
> {
  const result = await sql<
    MemberRow & { username: string; chat_number: number; chat_kind: ChatKind; chat_name: string | null }
  >`
    select m.*, u.username, c.number as chat_number, c.kind as chat_kind, c.name as chat_name from members m
    join users u on u.tenant_id = m.tenant_id and u.id = m.user_id
    join chats c on c.id = m.chat_id and c.deleted_at is null
    where m.chat_id = ${chatId}
      and exists (select 1 from members v where v.chat_id = ${chatId} and v.user_id = ${viewerId})
    order by m.role = 'owner' desc, m.joined_at, m.user_id`.execute(db);
  return result.rows;
}
