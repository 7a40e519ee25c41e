import Type from 'typebox';
import { eventsOf, type PayloadsOf } from '../events.ts';
import { MessageView } from './message.schema.ts';

/**
 * Mentions: a member was mentioned by a message, told on their own stream whatever their chat settings (a muted
 * chat's mentions still reach them). Not replayed on a resume: the replayed `message.created` carries `mentions`,
 * `mentionsAll` and `mentionsHere`, and the unread summary counts mentions exactly.
 */
export const MentionEvents = {
  'mention.created': Type.Object(
    {
      chatId: Type.String(),
      message: MessageView,
      via: Type.Union([Type.Literal('name'), Type.Literal('here'), Type.Literal('all')], {
        description:
          '`name`: the text names the user (`@username`); `here`: `@here` reached them, online when it was ' +
          'sent; `all`: `@all`.',
      }),
    },
    {
      description:
        'A message mentions you: to the mentioned user only (for `@all`, to every member of the chat, its author ' +
        'included: `message.authorId` tells), even when they muted the chat. An edit tells only the members it ' +
        'newly mentions. After the message’s `message.created` (or `message.updated`).',
    },
  ),
};
export type MentionEvents = PayloadsOf<typeof MentionEvents>;

export const mentionEvent = eventsOf<MentionEvents>();
