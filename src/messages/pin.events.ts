import Type from 'typebox';
import { ChangeRev } from '../chats/change.schema.ts';
import { eventsOf, type PayloadsOf } from '../events.ts';

/**
 * Pins: changes of the chat (`rev`), delivered in rev order with its other changes and replayed on a resume; on one
 * connection each comes after its message's `message.created`.
 */
export const PinEvents = {
  'message.pinned': Type.Object(
    {
      chatId: Type.String(),
      seq: Type.Integer(),
      messageId: Type.String(),
      pinnedBy: Type.String(),
      pinnedAt: Type.String({ format: 'date-time' }),
      rev: ChangeRev,
    },
    {
      description:
        'A message was pinned (by `pinnedBy`, at `pinnedAt`): to every member of the chat. A change: in `rev` order with the chat’s other changes, replayed on a resume.',
    },
  ),
  'message.unpinned': Type.Object(
    {
      chatId: Type.String(),
      seq: Type.Integer(),
      messageId: Type.String(),
      userId: Type.String({ description: 'Who unpinned it.' }),
      rev: ChangeRev,
    },
    {
      description:
        'A message was unpinned: to every member of the chat. A deleted message loses its pin with no event of ' +
        'its own (`message.deleted` says it). A change: in `rev` order with the chat’s other changes, replayed on a ' +
        'resume.',
    },
  ),
};
export type PinEvents = PayloadsOf<typeof PinEvents>;

export const pinEvent = eventsOf<PinEvents>();
