import type { MemberRow } from './member.table.ts';
import type { MemberView } from './member.schema.ts';

export function presentMember(row: MemberRow): MemberView {
  return {
    chatId: row.chat_id,
    userId: row.user_id,
    role: row.role,
    joinedAt: row.joined_at.toISOString(),
    lastReadSeq: row.last_read_seq,
  };
}
