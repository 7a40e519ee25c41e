import type { Generated, Selectable } from 'kysely';

export type ChatKind = 'direct' | 'group';
export type ChatVisibility = 'public' | 'private';

export interface ChatTable {
  id: string;
  tenant_id: string;
  /** Counts chats per tenant from 1, assigned from tenants.chat_counter inside the insert. */
  number: number;
  kind: ChatKind;
  name: string | null;
  /** lower(name) when the tenant wants unique group names, else null; unique per tenant. */
  name_key: string | null;
  topic: string | null;
  visibility: ChatVisibility;
  /** The two user ids of a direct chat, sorted; unique per tenant. */
  direct_key: string | null;
  created_by: string;
  created_at: Generated<Date>;
  last_seq: Generated<number>;
  message_count: Generated<number>;
  member_count: Generated<number>;
  last_message_at: Date | null;
  /** The highest seq of a deleted message, 0 if none: unread counting looks for deleted messages only below it. */
  last_deleted_seq: Generated<number>;
  /** Changes to stored messages other than appends (edits, deletes): with last_seq, one state of the history. */
  history_revision: Generated<number>;
  /** The chat's last change `rev` (chat_changes): advanced by the statement that records a change. */
  change_seq: Generated<number>;
  /** The highest seq of a thread-only reply (migration 0021), 0 if none: unread counts and main history pages look
   *  for thread-only replies only below it. */
  last_thread_seq: Generated<number>;
  deleted_at: Date | null;
}

export type ChatRow = Selectable<ChatTable>;
