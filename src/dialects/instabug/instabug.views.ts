import type { ChatView } from '../../chats/chat.schema.ts';
import type { MessageView } from '../../messages/message.schema.ts';
import type { TenantView } from '../../tenants/tenant.presenter.ts';

/**
 * The two originals answer in different shapes, each at its own paths (docs/dialects/instabug.md):
 * - `seed`: the seed text and andrewawni/chat_system, under `/api`: creation answers `{type, application_token, ...}`,
 *   reads answer `{token, name}`, `{number, name}`, `{number, content}` (with the counts the seed text adds);
 * - `rails`: civilcoder55's Rails API, under `/api/v1` and the root: `{name, token, chats_count, created_at,
 *   updated_at}`, `{number, messages_count, created_at, updated_at}`, `{number, body, created_at, updated_at}`.
 * Neither ever shows an internal id.
 */
export type Flavour = 'seed' | 'rails';

/** An application (a tenant with a token) and its exact count of live chats. */
export interface ApplicationData {
  tenant: TenantView;
  chatsCount: number;
}

/** A chat with the token of its application. */
export interface ChatData {
  token: string;
  chat: ChatView;
}

/** A message with the token and the number of its chat. */
export interface MessageData {
  token: string;
  chatNumber: number;
  message: MessageView;
}

/** What each route answers, in one flavour. */
export interface InstabugViews {
  createdApplication(data: ApplicationData): object;
  application(data: ApplicationData): object;
  createdChat(data: ChatData): object;
  chat(data: ChatData): object;
  createdMessage(data: MessageData): object;
  message(data: MessageData): object;
}

const chatUpdatedAt = (chat: ChatView) => chat.lastMessageAt ?? chat.createdAt;
const messageUpdatedAt = (message: MessageView) => message.editedAt ?? message.createdAt;

/** andrewawni's `as_json(only: [:token, :name])` and friends, with the seed text's counts; its Go service's creates. */
const seed: InstabugViews = {
  createdApplication: ({ tenant }) => ({
    type: 'application',
    application_token: tenant.token,
    application_name: tenant.name,
  }),
  application: ({ tenant, chatsCount }) => ({
    token: tenant.token,
    name: tenant.name,
    chats_count: chatsCount,
  }),
  createdChat: ({ token, chat }) => ({
    type: 'chat',
    application_token: token,
    chat_number: chat.number,
    chat_name: chat.name,
  }),
  chat: ({ chat }) => ({ number: chat.number, name: chat.name, messages_count: chat.messageCount }),
  createdMessage: ({ token, chatNumber, message }) => ({
    type: 'message',
    application_token: token,
    chat_number: chatNumber,
    message_number: message.seq,
    message_content: message.text,
  }),
  message: ({ message }) => ({ number: message.seq, content: message.text }),
};

/** civilcoder55's representers: the same shape whether created or read. */
const rails: InstabugViews = {
  createdApplication: (data) => rails.application(data),
  application: ({ tenant, chatsCount }) => ({
    name: tenant.name,
    token: tenant.token,
    chats_count: chatsCount,
    created_at: tenant.createdAt,
    updated_at: tenant.updatedAt,
  }),
  createdChat: (data) => rails.chat(data),
  chat: ({ chat }) => ({
    number: chat.number,
    messages_count: chat.messageCount,
    created_at: chat.createdAt,
    updated_at: chatUpdatedAt(chat),
  }),
  createdMessage: (data) => rails.message(data),
  message: ({ message }) => ({
    number: message.seq,
    body: message.text,
    created_at: message.createdAt,
    updated_at: messageUpdatedAt(message),
  }),
};

export const VIEWS: Record<Flavour, InstabugViews> = { seed, rails };

/** The names each flavour reads a field under, its own first (the one a 422 names); the other's are accepted too. */
export const FIELD_NAMES: Record<Flavour, { application: string[]; chat: string[]; message: string[] }> = {
  seed: {
    application: ['application_name', 'name'],
    chat: ['chat_name', 'name'],
    message: ['message_content', 'body'],
  },
  rails: {
    application: ['name', 'application_name'],
    chat: ['name', 'chat_name'],
    message: ['body', 'message_content'],
  },
};

/** civilcoder55 validates an application's name to 4..255 characters; andrewawni and the seed text only need one. */
export const MIN_APPLICATION_NAME: Record<Flavour, number> = { seed: 1, rails: 4 };
