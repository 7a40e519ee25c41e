import type { FileView } from '../attachments/file.schema.ts';
import type { DeliveryView, WebhookView } from '../webhooks/webhook.schema.ts';
import type { ChatView } from '../chats/chat.schema.ts';
import type { MemberView } from '../members/member.schema.ts';
import type { MessageView } from '../messages/message.schema.ts';
import type { BanView, LogEntryView, MuteView, ReportView } from '../moderation/moderation.schema.ts';
import type { BlockView } from '../users/block.schema.ts';
import type { UserView } from '../users/user.schema.ts';

/** The JSON:API resource types, one per native view. */
export const RESOURCE_TYPES = [
  'users',
  'chats',
  'members',
  'messages',
  'mutes',
  'bans',
  'blocks',
  'reports',
  'logEntries',
  'files',
  'webhooks',
  'webhookDeliveries',
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** What a route does to its resource type; `PARLEY_JSONAPI_EXCLUDE` names these (`users.create`). */
export const OPERATIONS = ['list', 'read', 'create', 'update', 'delete'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** The view each type is presented from: the native presenters' output, unchanged. */
export interface Views {
  users: UserView;
  chats: ChatView;
  members: MemberView;
  messages: MessageView;
  mutes: MuteView;
  bans: BanView;
  blocks: BlockView;
  reports: ReportView;
  logEntries: LogEntryView;
  files: FileView;
  webhooks: WebhookView;
  webhookDeliveries: DeliveryView;
}

type Role = 'id' | 'attribute' | 'foreignKey' | 'relationship';

/**
 * Where every field of every view goes in a resource object. Typed against the views, so a field added to a view
 * does not compile until it is given a place here (and never silently disappears from JSON:API).
 * Foreign keys become relationships; they are attributes too only where configured.
 */
export const FIELDS = {
  users: {
    id: 'id',
    username: 'attribute',
    displayName: 'attribute',
    status: 'attribute',
    statusText: 'attribute',
    createdAt: 'attribute',
    deletedAt: 'attribute',
  },
  chats: {
    id: 'id',
    number: 'attribute',
    kind: 'attribute',
    name: 'attribute',
    topic: 'attribute',
    visibility: 'attribute',
    createdBy: 'foreignKey',
    createdAt: 'attribute',
    lastMessageAt: 'attribute',
    messageCount: 'attribute',
    memberCount: 'attribute',
    lastMessage: 'relationship',
    unreadCount: 'attribute',
    lastReadSeq: 'attribute',
    role: 'attribute',
    settings: 'attribute',
  },
  members: {
    chatId: 'foreignKey',
    userId: 'foreignKey',
    role: 'attribute',
    joinedAt: 'attribute',
    lastReadSeq: 'attribute',
  },
  messages: {
    id: 'id',
    chatId: 'foreignKey',
    seq: 'attribute',
    authorId: 'foreignKey',
    text: 'attribute',
    replyTo: 'relationship',
    clientId: 'attribute',
    createdAt: 'attribute',
    editedAt: 'attribute',
    deletedAt: 'attribute',
    threadRoot: 'attribute',
    alsoInChat: 'attribute',
    thread: 'attribute',
    reactions: 'attribute',
    // Who pinned is a user id shown as it is: a message has no relationship that changes with a pin.
    pinnedAt: 'attribute',
    pinnedBy: 'attribute',
    mentions: 'attribute',
    mentionsAll: 'attribute',
    mentionsHere: 'attribute',
    attachments: 'attribute',
  },
  // Moderation (docs/moderation.md): the ids of the users, chats and reports these name are attributes.
  mutes: {
    chatId: 'attribute',
    userId: 'attribute',
    until: 'attribute',
    reason: 'attribute',
    mutedBy: 'attribute',
    createdAt: 'attribute',
  },
  bans: {
    chatId: 'attribute',
    userId: 'attribute',
    reason: 'attribute',
    bannedBy: 'attribute',
    createdAt: 'attribute',
  },
  blocks: { userId: 'id', createdAt: 'attribute' },
  reports: {
    id: 'id',
    chatId: 'attribute',
    seq: 'attribute',
    reporterId: 'attribute',
    authorId: 'attribute',
    reason: 'attribute',
    text: 'attribute',
    status: 'attribute',
    action: 'attribute',
    resolvedBy: 'attribute',
    resolvedAt: 'attribute',
    createdAt: 'attribute',
  },
  logEntries: {
    id: 'id',
    chatId: 'attribute',
    actorId: 'attribute',
    action: 'attribute',
    targetUserId: 'attribute',
    seq: 'attribute',
    reportId: 'attribute',
    reason: 'attribute',
    until: 'attribute',
    at: 'attribute',
  },
  // Uploaded files (docs/files.md): the chat, message and uploader they name are attributes.
  files: {
    id: 'id',
    name: 'attribute',
    contentType: 'attribute',
    size: 'attribute',
    width: 'attribute',
    height: 'attribute',
    chatId: 'attribute',
    messageId: 'attribute',
    sha256: 'attribute',
    createdBy: 'attribute',
    createdAt: 'attribute',
    url: 'attribute',
    urlExpiresAt: 'attribute',
  },
  // Webhooks (docs/webhooks.md): the subscription a delivery is for, and its creator, are attributes.
  webhooks: {
    id: 'id',
    url: 'attribute',
    eventTypes: 'attribute',
    enabled: 'attribute',
    description: 'attribute',
    secretHint: 'attribute',
    secret: 'attribute',
    createdBy: 'attribute',
    createdAt: 'attribute',
    updatedAt: 'attribute',
  },
  webhookDeliveries: {
    id: 'id',
    webhookId: 'attribute',
    eventType: 'attribute',
    chatId: 'attribute',
    status: 'attribute',
    attempts: 'attribute',
    nextAttemptAt: 'attribute',
    lastStatus: 'attribute',
    lastError: 'attribute',
    redeliveryOf: 'attribute',
    createdAt: 'attribute',
    deliveredAt: 'attribute',
  },
} as const satisfies { [T in ResourceType]: Record<keyof Views[T], Role> };

function namesWith(type: ResourceType, role: Role): string[] {
  return Object.entries(FIELDS[type])
    .filter(([, r]) => r === role)
    .map(([name]) => name);
}

/** The attributes of a type, in view order (foreign keys not included). */
export function attributeNames(type: ResourceType): string[] {
  return namesWith(type, 'attribute');
}

/** The foreign keys of a type: ids of related resources, shown as relationships. */
export function foreignKeyNames(type: ResourceType): string[] {
  return namesWith(type, 'foreignKey');
}

export function isResourceType(name: string): name is ResourceType {
  return (RESOURCE_TYPES as readonly string[]).includes(name);
}
