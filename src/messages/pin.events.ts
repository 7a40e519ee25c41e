import Type from 'typebox';
import { eventsOf, type PayloadsOf } from '../events.ts';

/**
 * Pins. Not messages: they have no seq of their own and are not replayed on a resume (a client catching up reads
 * `GET /v1/chats/{id}/pins`, or the history pages, which carry each message's pin); on one connection each comes
 * after its message's `message.created`.
 */
export const PinEvents = {
  'message.pinned': Type.Object(
    {
      chatId: Type.String(),
      seq: Type.Integer(),
      messageId: Type.String(),
      pinnedBy: Type.String(),
      pinnedAt: Type.String({ format: 'date-time' }),
    },
    {
      description:
        'A message was pinned (by `pinnedBy`, at `pinnedAt`): to every member of the chat. Not replayed on a resume.',
    },
  ),
  'message.unpinned': Type.Object(
    {
      chatId: Type.String(),
      seq: Type.Integer(),
      messageId: Type.String(),
      userId: Type.String({ description: 'Who unpinned it.' }),
    },
    {
      description:
        'A message was unpinned: to every member of the chat. A deleted message loses its pin with no event of ' +
        'its own (`message.deleted` says it). Not replayed on a resume.',
    },
  ),
};
export type PinEvents = PayloadsOf<typeof PinEvents>;

export const pinEvent = eventsOf<PinEvents>();
