import Type from 'typebox';
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
    },
    { description },
  );

/**
 * Reactions to messages. Not messages: they have no seq of their own and are not replayed on a resume (a client
 * catching up reads the history page, which carries the current counts); on one connection each comes after its
 * message's `message.created`.
 */
export const ReactionEvents = {
  'reaction.added': ReactionChange(
    'A member reacted to a message with an emoji (`count` includes them): to every member of the chat. Not ' +
      'replayed on a resume: history pages carry the current counts.',
  ),
  'reaction.removed': ReactionChange(
    'A member took back their reaction (`count` without them; 0 when it was the last): to every member of the ' +
      'chat. Not replayed on a resume.',
  ),
};
export type ReactionEvents = PayloadsOf<typeof ReactionEvents>;

export const reactionEvent = eventsOf<ReactionEvents>();
