import Type from 'typebox';
import { eventsOf, type PayloadsOf } from '../events.ts';
import { ThreadSummary } from './message.schema.ts';

/**
 * Threads. A thread reply itself is a `message.created` like any message (its `threadRoot` set), in seq order and
 * replayed on a resume; `thread.updated` tells what it changed on its root. It has no seq of its own and is not
 * replayed on a resume (a client catching up reads the root, whose `thread` is current).
 */
export const ThreadEvents = {
  'thread.updated': Type.Object(
    {
      chatId: Type.String(),
      seq: Type.Integer({ description: 'The root’s seq.' }),
      messageId: Type.String({ description: 'The root’s id.' }),
      replySeq: Type.Integer({
        description:
          'The seq of the reply whose send or deletion changed the summary: the event comes after it.',
      }),
      thread: ThreadSummary,
    },
    {
      description:
        'A thread’s summary on its root changed (a reply was sent, or deleted): to every member of the chat, after ' +
        'the reply’s `message.created` (or `message.deleted`). Carries the summary as read once the change ' +
        'committed. Not replayed on a resume.',
    },
  ),
};
export type ThreadEvents = PayloadsOf<typeof ThreadEvents>;

export const threadEvent = eventsOf<ThreadEvents>();
