import { addToMemberCount, softDeleteChat } from '../chats/chat.access.ts';
import type { Db } from '../db/database.ts';
import type { Envelope } from '../events.ts';
import { memberEvent } from './member.events.ts';
import { countOwners, deleteMember, findSuccessor, updateRole } from './member.repository.ts';
import type { MemberRow } from './member.table.ts';

/**
 * Takes one membership away inside the caller's transaction, whose chat row lock it holds: the member count drops,
 * `member.removed` is told to the chat and to the user; a chat nobody is left in is deleted, and when its last owner
 * goes, the longest-standing admin, else member, becomes owner. Leaving, removal and a ban (moderation) all end here.
 */
export async function evict(
  trx: Db,
  tenantId: string,
  chatId: string,
  target: MemberRow,
  events: Envelope[],
): Promise<void> {
  const userId = target.user_id;
  await deleteMember(trx, chatId, userId);
  const chat = await addToMemberCount(trx, chatId, -1);
  events.push(memberEvent('member.removed', tenantId, { chatId }, { chatId, userId }));
  events.push(memberEvent('member.removed', tenantId, { userId }, { chatId, userId }));
  if (chat.member_count === 0) {
    await softDeleteChat(trx, chatId);
    return;
  }
  if (target.role === 'owner' && (await countOwners(trx, chatId)) === 0) {
    const successor = await findSuccessor(trx, chatId);
    if (successor) {
      await updateRole(trx, chatId, successor.user_id, 'owner');
    }
  }
}
