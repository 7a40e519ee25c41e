import Type from 'typebox';
import { ChangeRev } from '../chats/change.schema.ts';
import { eventsOf, type PayloadsOf } from '../events.ts';
import { MessageView } from './message.schema.ts';

/** The messages feature's events: a message's life, and a member's read cursor moving. */
export const MessageEvents = {
  'message.created': Type.Object(
    { chatId: Type.String(), message: MessageView },
    {
      description:
        'A message was sent in a chat the user is in. Within a chat these arrive strictly in `seq` order, each ' +
        'once: also when replayed after a resume.',
    },
  ),
  'message.updated': Type.Object(
    { chatId: Type.String(), message: MessageView, rev: ChangeRev },
    {
      description:
        'A message was edited (`editedAt` is set); it comes after the message’s `message.created`. A change: in ' +
        '`rev` order with the chat’s other changes, replayed on a resume.',
    },
  ),
  'message.deleted': Type.Object(
    { chatId: Type.String(), message: MessageView, rev: ChangeRev },
    {
      description:
        'A message was deleted (`deletedAt` is set, `text` is null); it comes after the message’s ' +
        '`message.created`. A change: in `rev` order with the chat’s other changes, replayed on a resume.',
    },
  ),
  'read.updated': Type.Object(
    {
      chatId: Type.String(),
      userId: Type.String(),
      seq: Type.Integer({
        description: 'The member’s read cursor now: they have seen every message up to it.',
      }),
      readAt: Type.String({ format: 'date-time', description: 'When the cursor moved.' }),
    },
    {
      description:
        'A member’s read cursor moved forward to `seq` (a "seen by" receipt): to every member of a chat of at most ' +
        '`PARLEY_RECEIPTS_MAX_MEMBERS` members, to the reader’s own streams only in a larger one. Only a move ' +
        'tells: a cursor moved back or to where it is tells nothing. On one connection it never comes before the ' +
        '`message.created` of its seq. Not replayed on a resume (`GET .../messages/{seq}/receipts` reads the state).',
    },
  ),
};
export type MessageEvents = PayloadsOf<typeof MessageEvents>;

export const messageEvent = eventsOf<MessageEvents>();
