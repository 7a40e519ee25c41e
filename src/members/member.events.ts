import Type from 'typebox';
import { eventsOf, type PayloadsOf } from '../events.ts';

/** The members feature's events; `member.added` carries the chat's seq at that moment as routing (`seqAt`). */
export const MemberEvents = {
  'member.added': Type.Object(
    { chatId: Type.String(), userId: Type.String() },
    {
      description:
        'A user joined a chat: to its members, the new one included, whose stream of the chat starts at the seq ' +
        'at which they joined.',
    },
  ),
  'member.removed': Type.Object(
    { chatId: Type.String(), userId: Type.String() },
    {
      description:
        'A user left or was removed from a chat: to the remaining members, and to the removed user, who hears ' +
        'nothing more of the chat.',
    },
  ),
};
export type MemberEvents = PayloadsOf<typeof MemberEvents>;

export const memberEvent = eventsOf<MemberEvents>();
