import type { MessageInContextRow } from './filter.repository.ts';
import type { MessageRow, PinColumns } from './message.table.ts';
import type { Mentions } from './mention.repository.ts';
import type { MessageView } from './message.schema.ts';
import type { ReactionView } from './reaction.schema.ts';

const NO_MENTIONS: Mentions = { users: [], all: false, here: false };

/**
 * A message row as clients see it; with `reactions` and `mentions` when they were loaded (none shown on a deleted
 * message), and `pinnedAt` / `pinnedBy` when the row carries its pin.
 */
export function presentMessage(
  row: MessageRow & Partial<PinColumns>,
  reactions?: ReactionView[],
  mentions?: Mentions | null,
): MessageView {
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
  if (row.pinned_at !== undefined) {
    view.pinnedAt = row.pinned_at ? row.pinned_at.toISOString() : null;
    view.pinnedBy = row.pinned_at ? row.pinned_by : null;
  }
  if (mentions !== undefined) {
    const shown = row.deleted_at || !mentions ? NO_MENTIONS : mentions;
    view.mentions = [...shown.users];
    view.mentionsAll = shown.all;
    view.mentionsHere = shown.here;
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
