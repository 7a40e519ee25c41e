import type { Actor } from '../../auth/actor.ts';
import type { ChatView } from '../../chats/chat.schema.ts';
import {
  chatIdByNumber,
  countChats,
  createChat,
  getChatByNumber,
  listChatsByNumber,
  updateChat,
} from '../../chats/chat.service.ts';
import type { Context } from '../../context.ts';
import { AppError, invalid } from '../../errors/codes.ts';
import { editMessage, getMessage, sendMessage } from '../../messages/message.service.ts';
import { listMessages } from '../../messages/history.service.ts';
import { MAX_QUERY_CHARS } from '../../search/search.query.ts';
import { searchChat } from '../../search/search.service.ts';
import type { TenantView } from '../../tenants/tenant.presenter.ts';
import {
  getTokenTenant,
  listTokenTenants,
  renameTenant,
  tenantIdByToken,
} from '../../tenants/tenant.service.ts';
import { createTokenTenant } from '../../users/user.service.ts';
import { checkedAfter } from '../dialect.errors.ts';
import {
  DEFAULT_CHAT_NAME,
  pageOf,
  pathNumber,
  pickText,
  requireText,
  searchText,
  SYSTEM_USER,
  systemActor,
  toApplication,
  toChat,
  toListedApplication,
  toMessage,
  toSearchHit,
} from './instabug.mapping.ts';

const APP_NAMES = ['application_name', 'name'] as const;
const CHAT_NAMES = ['chat_name', 'name'] as const;
const MESSAGE_TEXTS = ['message_content', 'body'] as const;
const SEARCH_HITS = 200;

/** What the path names: an application's token, a chat number and a message number, as sent. */
export interface InstabugPath {
  token?: string;
  number?: string;
  message?: string;
}

/** An application (a tenant) and its system user, who acts in it. */
export interface Application {
  tenant: TenantView;
  token: string;
  actor: Actor;
}

/** A chat of an application. */
export interface ApplicationChat extends Application {
  chat: ChatView;
}

/** The application holding the path's token, or 404. */
async function application(ctx: Context, path: InstabugPath): Promise<Application> {
  const tenant = await getTokenTenant(ctx, path.token ?? '');
  return { tenant, token: tenant.token ?? '', actor: systemActor(tenant.id) };
}

/** The chat the path's token and number name, or 404. */
export async function applicationChat(ctx: Context, path: InstabugPath): Promise<ApplicationChat> {
  const app = await application(ctx, path);
  const number = pathNumber(path.number ?? '', 'chat');
  const chat = await getChatByNumber(ctx, app.actor, number);
  return { ...app, chat };
}

/** The chat the path names, addressed by what is remembered of tokens and numbers: no read when both are known. */
interface ChatAddress {
  token: string;
  actor: Actor;
  chatId: string;
  number: number;
}

/**
 * The chat the path's token and number name, or the 404 `applicationChat` gives, without reading the chat: the
 * work done with it checks that it is live (and `checkedAfter` then asks `applicationChat` why not).
 */
async function chatAddress(ctx: Context, path: InstabugPath): Promise<ChatAddress> {
  const tenantId = await tenantIdByToken(ctx, path.token ?? '');
  const number = tenantId === null ? null : pathNumber(path.number ?? '', 'chat');
  const chatId = tenantId === null || number === null ? null : await chatIdByNumber(ctx, tenantId, number);
  if (tenantId === null || number === null || chatId === null) {
    const { token, actor, chat } = await applicationChat(ctx, path);
    return { token, actor, chatId: chat.id, number: chat.number };
  }
  return { token: path.token ?? '', actor: systemActor(tenantId), chatId, number };
}

/** `work` on the chat `at` names; should the chat be gone, the 404 `applicationChat` gives. */
function onChat<T>(ctx: Context, path: InstabugPath, work: () => Promise<T>): Promise<T> {
  return checkedAfter(work, async () => {
    await applicationChat(ctx, path);
  });
}

// Applications.

export async function createApplication(ctx: Context, body: unknown) {
  const tenant = await createTokenTenant(ctx, {
    name: requireText(body, 'application', APP_NAMES),
    idPrefix: 'instabug',
    // Chats of one application may share a name: Instabug identifies them by number.
    settings: { uniqueGroupNames: false },
    users: [{ ...SYSTEM_USER }],
  });
  return toApplication(tenant, 0);
}

export async function listApplications(ctx: Context, query: unknown) {
  const tenants = await listTokenTenants(ctx, pageOf(query));
  return Promise.all(
    tenants.map(async (t) => toListedApplication(t, await countChats(ctx, systemActor(t.id)))),
  );
}

export async function showApplication(ctx: Context, path: InstabugPath) {
  const { tenant, actor } = await application(ctx, path);
  return toApplication(tenant, await countChats(ctx, actor));
}

export async function renameApplication(ctx: Context, path: InstabugPath, body: unknown) {
  const { tenant, actor } = await application(ctx, path);
  const renamed = await renameTenant(ctx, tenant.id, requireText(body, 'application', APP_NAMES));
  return toApplication(renamed, await countChats(ctx, actor));
}

// Chats.

export async function addChat(ctx: Context, path: InstabugPath, body: unknown) {
  const { token, actor } = await application(ctx, path);
  const name = pickText(body, 'chat', CHAT_NAMES);
  if (name !== undefined && name.trim() === '') {
    throw invalid('chat_name: must not be blank');
  }
  const { chat } = await createChat(ctx, actor, { kind: 'group', name: name ?? DEFAULT_CHAT_NAME });
  return toChat(token, chat);
}

export async function listChats(ctx: Context, path: InstabugPath, query: unknown) {
  const { token, actor } = await application(ctx, path);
  return (await listChatsByNumber(ctx, actor, pageOf(query))).map((chat) => toChat(token, chat));
}

export async function showChat(ctx: Context, path: InstabugPath) {
  const { token, chat } = await applicationChat(ctx, path);
  return toChat(token, chat);
}

export async function renameChat(ctx: Context, path: InstabugPath, body: unknown) {
  const { token, actor, chat } = await applicationChat(ctx, path);
  const name = requireText(body, 'chat', CHAT_NAMES);
  return toChat(token, await updateChat(ctx, actor, chat.id, { name }));
}

// Messages.

export async function addMessage(ctx: Context, path: InstabugPath, body: unknown) {
  const at = await chatAddress(ctx, path);
  const text = requireText(body, 'message', MESSAGE_TEXTS);
  const { message } = await onChat(ctx, path, () => sendMessage(ctx, at.actor, at.chatId, { text }));
  return toMessage(at.token, at.number, message);
}

export async function listChatMessages(ctx: Context, path: InstabugPath, query: unknown) {
  const at = await chatAddress(ctx, path);
  const { offset, limit } = pageOf(query);
  // Message numbers have no gaps: page p holds numbers (p-1)*per_page+1 .. p*per_page, deleted ones left out.
  const page = await onChat(ctx, path, () =>
    listMessages(ctx, at.actor, at.chatId, { after: offset, limit }),
  );
  return page.data.filter((m) => m.deletedAt === null).map((m) => toMessage(at.token, at.number, m));
}

/** The chat's messages matching the search words of the query or the body; none for no words. */
export async function searchChatMessages(ctx: Context, at: ApplicationChat, query: unknown, body: unknown) {
  const { token, actor, chat } = at;
  const q = searchText(query, body).trim();
  if (q === '') {
    return [];
  }
  if ([...q].length > MAX_QUERY_CHARS) {
    throw invalid(`search_query: must be at most ${MAX_QUERY_CHARS} characters`);
  }
  const page = await searchChat(ctx, actor, chat.id, { q, limit: SEARCH_HITS });
  return page.data.map((hit) => toSearchHit(token, chat.number, hit));
}

export async function showMessage(ctx: Context, path: InstabugPath) {
  const { token, actor, chat } = await applicationChat(ctx, path);
  const seq = pathNumber(path.message ?? '', 'message');
  const message = await getMessage(ctx, actor, chat.id, seq);
  if (message.deletedAt !== null) {
    throw new AppError('not_found', `no message ${seq}`);
  }
  return toMessage(token, chat.number, message);
}

export async function changeMessage(ctx: Context, path: InstabugPath, body: unknown) {
  const { token, actor, chat } = await applicationChat(ctx, path);
  const seq = pathNumber(path.message ?? '', 'message');
  const text = requireText(body, 'message', MESSAGE_TEXTS);
  return toMessage(token, chat.number, await editMessage(ctx, actor, chat.id, seq, { text }));
}
