import type { ChatView } from '../chats/chat.schema.ts';
import type { MemberView } from '../members/member.schema.ts';
import type { FileView } from '../attachments/file.schema.ts';
import type { DeliveryView, WebhookView } from '../webhooks/webhook.schema.ts';
import type { MessageView } from '../messages/message.schema.ts';
import type { BanView, LogEntryView, MuteView, ReportView } from '../moderation/moderation.schema.ts';
import type { BlockView } from '../users/block.schema.ts';
import type { UserView } from '../users/user.schema.ts';
import type { ResourceType, Views } from './jsonapi.fields.ts';
import type { Loader } from './jsonapi.loader.ts';

export interface Identifier {
  type: ResourceType;
  id: string;
}

/** A relationship's data: one identifier or none (to-one), or a list (to-many). */
export type Linkage = Identifier | Identifier[] | null;

export type AnyView = Views[ResourceType];

/** Relationship links, as paths from the API base (`/v1/...`). */
export interface RelationshipPaths {
  self: string;
  related?: string;
}

export interface RelationshipDef<V> {
  /** The type of the related resources. */
  type: ResourceType;
  many: boolean;
  /**
   * The linkage as the view already holds it (a foreign key); undefined when it takes a load. Without `identify`,
   * a relationship has data only when it is included (or `always` loaded).
   */
  identify?: (view: V) => Linkage | undefined;
  /** Load the linkage even when not included: the view holds a reference, but not the related id. */
  always?: boolean;
  /** The related views of each view, in one batch for all of them. */
  load: (loader: Loader, views: V[]) => Promise<AnyView[][]>;
  links: (view: V) => RelationshipPaths;
}

export interface ResourceDef<V> {
  type: ResourceType;
  id: (view: V) => string;
  /** The resource's own URL, from the API base. */
  self: (view: V) => string;
  relationships: Record<string, RelationshipDef<V>>;
}

const segment = (value: string | number) => encodeURIComponent(String(value));
const userPath = (id: string) => `/v1/users/${segment(id)}`;
export const chatPath = (id: string) => `/v1/chats/${segment(id)}`;
const messagePath = (chatId: string, seq: number) => `${chatPath(chatId)}/messages/${seq}`;
const memberPath = (chatId: string, userId: string) => `${chatPath(chatId)}/members/${segment(userId)}`;

/** A members resource's id: the chat's and the user's (a chat id never contains a colon: it is a UUID). */
export const memberId = (chatId: string, userId: string) => `${chatId}:${userId}`;

function toUser(id: string): Identifier {
  return { type: 'users', id };
}

async function usersOf<V>(loader: Loader, views: V[], idOf: (view: V) => string): Promise<AnyView[][]> {
  const users = await loader.users(views.map(idOf));
  return views.map((view) => {
    const user = users.get(idOf(view));
    return user ? [user] : [];
  });
}

async function chatsOf<V>(loader: Loader, views: V[], idOf: (view: V) => string): Promise<AnyView[][]> {
  return Promise.all(
    views.map(async (view) => {
      const chat = await loader.chat(idOf(view));
      return chat ? [chat] : [];
    }),
  );
}

const users: ResourceDef<UserView> = {
  type: 'users',
  id: (user) => user.id,
  self: (user) => userPath(user.id),
  relationships: {},
};

const chats: ResourceDef<ChatView> = {
  type: 'chats',
  id: (chat) => chat.id,
  self: (chat) => chatPath(chat.id),
  relationships: {
    members: {
      type: 'users',
      many: true,
      async load(loader, views) {
        const lists = await Promise.all(views.map((chat) => loader.members(chat.id)));
        const found = await loader.users(lists.flat().map((member) => member.userId));
        return lists.map((list) => list.flatMap((member) => found.get(member.userId) ?? []));
      },
      // No `related` link: the members collection (/v1/chats/{id}/members) lists memberships, not users.
      links: (chat) => ({ self: `${chatPath(chat.id)}/relationships/members` }),
    },
    lastMessage: {
      type: 'messages',
      many: false,
      identify: (chat) =>
        chat.lastMessage === undefined
          ? undefined
          : chat.lastMessage
            ? { type: 'messages', id: chat.lastMessage.id }
            : null,
      load: async (_loader, views) => views.map((chat) => (chat.lastMessage ? [chat.lastMessage] : [])),
      links: (chat) => ({
        self: `${chatPath(chat.id)}/relationships/lastMessage`,
        ...(chat.lastMessage ? { related: messagePath(chat.id, chat.lastMessage.seq) } : {}),
      }),
    },
    creator: {
      type: 'users',
      many: false,
      identify: (chat) => toUser(chat.createdBy),
      load: (loader, views) => usersOf(loader, views, (chat) => chat.createdBy),
      links: (chat) => ({
        self: `${chatPath(chat.id)}/relationships/creator`,
        related: userPath(chat.createdBy),
      }),
    },
  },
};

const members: ResourceDef<MemberView> = {
  type: 'members',
  id: (member) => memberId(member.chatId, member.userId),
  self: (member) => memberPath(member.chatId, member.userId),
  relationships: {
    user: {
      type: 'users',
      many: false,
      identify: (member) => toUser(member.userId),
      load: (loader, views) => usersOf(loader, views, (member) => member.userId),
      links: (member) => ({
        self: `${memberPath(member.chatId, member.userId)}/relationships/user`,
        related: userPath(member.userId),
      }),
    },
    chat: {
      type: 'chats',
      many: false,
      identify: (member) => ({ type: 'chats', id: member.chatId }),
      load: (loader, views) => chatsOf(loader, views, (member) => member.chatId),
      links: (member) => ({
        self: `${memberPath(member.chatId, member.userId)}/relationships/chat`,
        related: chatPath(member.chatId),
      }),
    },
  },
};

const messages: ResourceDef<MessageView> = {
  type: 'messages',
  id: (message) => message.id,
  self: (message) => messagePath(message.chatId, message.seq),
  relationships: {
    author: {
      type: 'users',
      many: false,
      identify: (message) => toUser(message.authorId),
      load: (loader, views) => usersOf(loader, views, (message) => message.authorId),
      links: (message) => ({
        self: `${messagePath(message.chatId, message.seq)}/relationships/author`,
        related: userPath(message.authorId),
      }),
    },
    chat: {
      type: 'chats',
      many: false,
      identify: (message) => ({ type: 'chats', id: message.chatId }),
      load: (loader, views) => chatsOf(loader, views, (message) => message.chatId),
      links: (message) => ({
        self: `${messagePath(message.chatId, message.seq)}/relationships/chat`,
        related: chatPath(message.chatId),
      }),
    },
    replyTo: {
      type: 'messages',
      many: false,
      // The view has the replied message's seq, not its id: one batched read per chat finds the ids.
      identify: (message) => (message.replyTo === null ? null : undefined),
      always: true,
      async load(loader, views) {
        const byChat = new Map<string, number[]>();
        for (const message of views) {
          if (message.replyTo !== null) {
            byChat.set(message.chatId, [...(byChat.get(message.chatId) ?? []), message.replyTo]);
          }
        }
        const found = new Map<string, Map<number, MessageView>>();
        for (const [chatId, seqs] of byChat) {
          found.set(chatId, await loader.messages(chatId, seqs));
        }
        return views.map((message) => {
          const target =
            message.replyTo === null ? undefined : found.get(message.chatId)?.get(message.replyTo);
          return target ? [target] : [];
        });
      },
      links: (message) => ({
        self: `${messagePath(message.chatId, message.seq)}/relationships/replyTo`,
        ...(message.replyTo !== null ? { related: messagePath(message.chatId, message.replyTo) } : {}),
      }),
    },
  },
};

/** Moderation's resources have no relationships: the ids they name are attributes (docs/jsonapi.md). */
function plain<V>(type: ResourceType, id: (view: V) => string, self: (view: V) => string): ResourceDef<V> {
  return { type, id, self, relationships: {} };
}

const mutes = plain<MuteView>(
  'mutes',
  (mute) => memberId(mute.chatId, mute.userId),
  (mute) => `${memberPath(mute.chatId, mute.userId)}/mute`,
);
const bans = plain<BanView>(
  'bans',
  (ban) => memberId(ban.chatId, ban.userId),
  (ban) => `${memberPath(ban.chatId, ban.userId)}/ban`,
);
const blocks = plain<BlockView>(
  'blocks',
  (block) => block.userId,
  (block) => `/v1/me/blocks/${segment(block.userId)}`,
);
const reports = plain<ReportView>(
  'reports',
  (report) => report.id,
  (report) => `/v1/reports/${segment(report.id)}`,
);
const logEntries = plain<LogEntryView>(
  'logEntries',
  (entry) => entry.id,
  (entry) => `/v1/moderation-log/${segment(entry.id)}`,
);

const files = plain<FileView>(
  'files',
  (file) => file.id,
  (file) => `/v1/files/${segment(file.id)}`,
);

const webhooks = plain<WebhookView>(
  'webhooks',
  (hook) => hook.id,
  (hook) => `/v1/webhooks/${segment(hook.id)}`,
);
const webhookDeliveries = plain<DeliveryView>(
  'webhookDeliveries',
  (delivery) => delivery.id,
  (delivery) => `/v1/webhooks/${segment(delivery.webhookId)}/deliveries/${segment(delivery.id)}`,
);

const DEFINITIONS = {
  users,
  chats,
  members,
  messages,
  mutes,
  bans,
  blocks,
  reports,
  logEntries,
  files,
  webhooks,
  webhookDeliveries,
};

/** The definition of a type, for views whose type is known only at run time. */
export function resourceDef(type: ResourceType): ResourceDef<AnyView> {
  return DEFINITIONS[type] as unknown as ResourceDef<AnyView>;
}

/** A relationship of a type by name; own properties only, so `constructor` is no relationship. */
export function relationshipOf(type: ResourceType, name: string): RelationshipDef<AnyView> | undefined {
  const relationships = resourceDef(type).relationships;
  return Object.hasOwn(relationships, name) ? relationships[name] : undefined;
}

export function relationshipNames(type: ResourceType): string[] {
  return Object.keys(resourceDef(type).relationships);
}
