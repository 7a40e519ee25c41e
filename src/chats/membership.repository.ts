import type { Db } from '../db/database.ts';
import type { MemberRole, MemberRow } from '../members/member.table.ts';

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
