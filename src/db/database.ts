import type { Kysely, Transaction } from 'kysely';
import type { TenantTable } from '../tenants/tenant.table.ts';
import type { UserTable } from '../users/user.table.ts';
import type { ChatChangeTable } from '../chats/change.table.ts';
import type { ChatTable } from '../chats/chat.table.ts';
import type { MemberTable } from '../members/member.table.ts';
import type { FailedSendTable } from '../messages/failure.table.ts';
import type { MessagePropertiesTable, MessageTable } from '../messages/message.table.ts';
import type { MessageReactionCountTable, MessageReactionTable } from '../messages/reaction.table.ts';
import type { MessageMentionTable } from '../messages/mention.table.ts';
import type { ThreadMemberTable } from '../messages/thread.table.ts';
import type { MessageFlagsTable } from '../recipients/recipient.table.ts';
import type { AttachmentTable, FileBlobTable } from '../attachments/attachment.table.ts';
import type { ChatBanTable } from '../chats/ban.table.ts';
import type { ChatMuteTable } from '../members/mute.table.ts';
import type { UserBlockTable } from '../users/block.table.ts';
import type { MessageReportTable, ModerationLogTable } from '../moderation/moderation.table.ts';
import type { WebhookOutboxTable, WebhookSubscriptionTable } from '../webhooks/webhook.table.ts';

export interface Database {
  tenants: TenantTable;
  users: UserTable;
  chats: ChatTable;
  chat_changes: ChatChangeTable;
  members: MemberTable;
  messages: MessageTable;
  failed_sends: FailedSendTable;
  message_properties: MessagePropertiesTable;
  message_flags: MessageFlagsTable;
  message_reactions: MessageReactionTable;
  message_reaction_counts: MessageReactionCountTable;
  message_mentions: MessageMentionTable;
  thread_members: ThreadMemberTable;
  attachments: AttachmentTable;
  file_blobs: FileBlobTable;
  chat_bans: ChatBanTable;
  chat_mutes: ChatMuteTable;
  user_blocks: UserBlockTable;
  message_reports: MessageReportTable;
  moderation_log: ModerationLogTable;
  webhook_subscriptions: WebhookSubscriptionTable;
  webhook_outbox: WebhookOutboxTable;
}

/** What repositories take first: the pool-backed instance or an open transaction. */
export type Db = Kysely<Database> | Transaction<Database>;
