import { eventsOf } from '../events.ts';

/** The members feature's events; `member.added` carries the chat's seq at that moment as routing (`seqAt`). */
export interface MemberEvents {
  'member.added': { chatId: string; userId: string };
  'member.removed': { chatId: string; userId: string };
}

export const memberEvent = eventsOf<MemberEvents>();
