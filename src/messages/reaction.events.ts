import Type from 'typebox';
import { ChangeRev } from '../chats/change.schema.ts';
import { eventsOf, type PayloadsOf } from '../events.ts';

const ReactionChange = (description: string) =>
  Type.Object(
    {
      chatId: Type.String(),
      seq: Type.Integer(),
      messageId: Type.String(),
      emoji: Type.String(),
      userId: Type.String(),
      count: Type.Integer({
        minimum: 0,
        description: 'How many members now react to the message with the emoji.',
      }),
      rev: ChangeRev,
    },
    { description },
  );

/**
 * Reactions to messages: changes of the chat (`rev`), delivered in rev order with its other changes and replayed on
 * a resume; on one connection each comes after its message's `message.created`.
 */
export const ReactionEvents = {
  'reaction.added': ReactionChange(
    'A member reacted to a message with an emoji (`count` includes them): to every member of the chat. A ' +
      'change: in `rev` order with the chat’s other changes, replayed on a resume.',
  ),
  'reaction.removed': ReactionChange(
    'A member took back their reaction (`count` without them; 0 when it was the last): to every member of the ' +
      'chat. A change: in `rev` order with the chat’s other changes, replayed on a resume.',
  ),
};
export type ReactionEvents = PayloadsOf<typeof ReactionEvents>;

export const reactionEvent = eventsOf<ReactionEvents>();
