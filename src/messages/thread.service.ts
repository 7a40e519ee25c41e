import type { Actor } from '../auth/actor.ts';
import { requireMember } from '../chats/chat.access.ts';
import type { Context } from '../context.ts';
import { invalid, notFound } from '../errors/codes.ts';
import { presentMessage } from './message.presenter.ts';
import { findMessage } from './message.repository.ts';
import type { ReadBody, ThreadReadView } from './message.schema.ts';
import type { MessageRow } from './message.table.ts';
import { threadEvent } from './thread.events.ts';
import { advanceThreadCursor } from './thread.repository.ts';

/**
 * Threads: a reply in a thread is a message of the chat, written by the send function (which checks the root and
 * keeps the root's summary and the thread's participants); here, what goes around it.
 */

/** After a thread reply was written or deleted (committed): the root's summary as it now stands, to the chat. */
export async function publishThreadUpdated(
  ctx: Context,
  tenantId: string,
  reply: Pick<MessageRow, 'chat_id' | 'seq' | 'thread_root'>,
): Promise<void> {
  if (reply.thread_root === null) {
    return;
  }
  const root = await findMessage(ctx.db, reply.chat_id, Number(reply.thread_root));
  const thread = root ? presentMessage(root).thread : null;
  if (!root || !thread) {
    return;
  }
  ctx.events.publish(
    threadEvent(
      'thread.updated',
      tenantId,
      { chatId: root.chat_id },
      { chatId: root.chat_id, seq: root.seq, messageId: root.id, replySeq: reply.seq, thread },
    ),
  );
}

/**
 * Moves the caller's thread cursor forward to `seq` (a seq of the chat). Only participants (the root's author,
 * repliers) have one: anyone else is answered `participant: false`, nothing stored.
 */
export async function markThreadRead(
  ctx: Context,
  actor: Actor,
  chatId: string,
  root: number,
  body: ReadBody,
): Promise<ThreadReadView> {
  const { chat } = await requireMember(ctx.db, actor, chatId);
  if (body.seq > chat.last_seq) {
    throw invalid(`seq: chat ${chatId} has no message ${body.seq} (its last is ${chat.last_seq})`);
  }
  const found = await findMessage(ctx.db, chatId, root);
  if (!found || found.thread_root !== null) {
    throw notFound(
      `message ${root} of chat ${chatId} has no thread: it is not a top-level message of the chat`,
    );
  }
  const cursor = await advanceThreadCursor(ctx.db, chatId, root, actor.userId, body.seq);
  if (!cursor) {
    return { messageId: found.id, lastReadSeq: body.seq, unreadCount: 0, participant: false };
  }
  return {
    messageId: found.id,
    lastReadSeq: cursor.last_read_seq,
    unreadCount: cursor.unread_count,
    participant: true,
  };
}
