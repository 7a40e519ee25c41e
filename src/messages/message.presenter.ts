import type { MessageInContextRow } from './filter.repository.ts';
import type { MessageRow } from './message.table.ts';
import type { MessageView } from './message.schema.ts';
import type { ReactionView } from './reaction.schema.ts';

/** A message row as clients see it; with `reactions` when they were loaded (none shown on a deleted message). */
export function presentMessage(row: MessageRow, reactions?: ReactionView[]): MessageView {
  const view: MessageView = {
    id: row.id,
    chatId: row.chat_id,
    seq: row.seq,
    authorId: row.author_id,
    text: row.deleted_at ? null : row.text,
    replyTo: row.reply_to,
    clientId: row.client_id,
    createdAt: row.created_at.toISOString(),
    editedAt: row.edited_at ? row.edited_at.toISOString() : null,
    deletedAt: row.deleted_at ? row.deleted_at.toISOString() : null,
    threadRoot: row.thread_root === null ? null : Number(row.thread_root),
    alsoInChat: row.also_in_chat,
    thread: row.last_reply_at
      ? {
          replyCount: row.reply_count,
          lastReplyAt: row.last_reply_at.toISOString(),
          participants: row.thread_participants ?? [],
        }
      : null,
  };
  if (reactions !== undefined) {
    view.reactions = row.deleted_at ? [] : reactions;
  }
  return view;
}

/** A message with its context, for dialects that show the chat kind, the replied-to id and a direct recipient. */
export interface MessageInContext {
  message: MessageView;
  chatKind: 'direct' | 'group';
  parentId: string | null;
  recipientId: string | null;
  /** What a SourceLoop client sent beside the text: none, status 0 and the chat's kind when it sent nothing. */
  subject: string | null;
  status: number;
  channelType: string;
}

export function presentMessageInContext(row: MessageInContextRow): MessageInContext {
  return {
    message: presentMessage(row),
    chatKind: row.chat_kind,
    parentId: row.parent_id,
    recipientId: row.recipient_id,
    subject: row.subject,
    status: row.status,
    channelType: row.channel_type ?? row.chat_kind,
  };
}
