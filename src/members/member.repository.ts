import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { MemberRole, MemberRow } from './member.table.ts';

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

/** Moves the read cursor forward only; returns the cursor as it stands after the move. */
export async function advanceReadCursor(
  db: Db,
  chatId: string,
  userId: string,
  seq: number,
): Promise<number | null> {
  const row = await db
    .updateTable('members')
    .set({ last_read_seq: sql<number>`greatest(last_read_seq, ${seq})` })
    .where('chat_id', '=', chatId)
    .where('user_id', '=', userId)
    .returning('last_read_seq')
    .executeTakeFirst();
  return row ? row.last_read_seq : null;
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
