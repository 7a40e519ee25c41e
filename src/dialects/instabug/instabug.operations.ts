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
import { historyPages, listMessages } from '../../messages/history.service.ts';
import { editMessage, getMessage, sendMessage } from '../../messages/message.service.ts';
import { MAX_QUERY_CHARS } from '../../search/search.query.ts';
import { searchChatAnyWord } from '../../search/search.service.ts';
import type { TenantView } from '../../tenants/tenant.presenter.ts';
import {
  getTokenTenant,
  listTokenTenants,
  listTokenTenantsAfter,
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
} from './instabug.mapping.ts';
import {
  FIELD_NAMES,
  MIN_APPLICATION_NAME,
  type ApplicationData,
  type ChatData,
  type Flavour,
  type MessageData,
} from './instabug.views.ts';

/** At most this many search hits (Elasticsearch, as the originals call it, answers 10). */
const SEARCH_HITS = 200;
/** Rows read per query while a whole list is streamed out. */
const STREAM_PAGE = 500;
/** Applications read per query while the list of every application is streamed (each counts its chats). */
const APPLICATION_PAGE = 100;
const MAX_APPLICATION_NAME = 200;

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

/** Pages of a list, pulled one at a time as the answer is written. */
export type Pages<T> = AsyncGenerator<T[]>;

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

async function withCount(ctx: Context, tenant: TenantView): Promise<ApplicationData> {
  return { tenant, chatsCount: await countChats(ctx, systemActor(tenant.id)) };
}

/** An application's name: not blank, and as long as the flavour's original wants it (civilcoder55: 4..255). */
function applicationName(flavour: Flavour, body: unknown): string {
  const names = FIELD_NAMES[flavour].application;
  const name = requireText(body, 'application', names).trim();
  const min = MIN_APPLICATION_NAME[flavour];
  if ([...name].length < min) {
    throw invalid(`${names[0]}: is too short (minimum is ${min} characters)`);
  }
  if ([...name].length > MAX_APPLICATION_NAME) {
    throw invalid(`${names[0]}: is too long (maximum is ${MAX_APPLICATION_NAME} characters)`);
  }
  return name;
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

export async function createApplication(
  ctx: Context,
  flavour: Flavour,
  body: unknown,
): Promise<ApplicationData> {
  const tenant = await createTokenTenant(ctx, {
    name: applicationName(flavour, body),
    idPrefix: 'instabug',
    // Chats of one application may share a name: Instabug identifies them by number.
    settings: { uniqueGroupNames: false },
    users: [{ ...SYSTEM_USER }],
  });
  return { tenant, chatsCount: 0 };
}

/** Every application in creation order (or the page `?page=`/`?per_page=` name), tokens included. */
export async function* applicationPages(ctx: Context, query: unknown): Pages<ApplicationData> {
  const page = pageOf(query);
  if (page !== null) {
    const tenants = await listTokenTenants(ctx, page);
    yield await Promise.all(tenants.map((t) => withCount(ctx, t)));
    return;
  }
  let afterId: string | null = null;
  for (;;) {
    const tenants = await listTokenTenantsAfter(ctx, afterId, APPLICATION_PAGE);
    yield await Promise.all(tenants.map((t) => withCount(ctx, t)));
    if (tenants.length < APPLICATION_PAGE) {
      return;
    }
    afterId = tenants[tenants.length - 1]!.id;
  }
}

export async function showApplication(ctx: Context, path: InstabugPath): Promise<ApplicationData> {
  const { tenant } = await application(ctx, path);
  return withCount(ctx, tenant);
}

export async function renameApplication(
  ctx: Context,
  flavour: Flavour,
  path: InstabugPath,
  body: unknown,
): Promise<ApplicationData> {
  const { tenant } = await application(ctx, path);
  return withCount(ctx, await renameTenant(ctx, tenant.id, applicationName(flavour, body)));
}

// Chats.

export async function addChat(
  ctx: Context,
  flavour: Flavour,
  path: InstabugPath,
  body: unknown,
): Promise<ChatData> {
  const { token, actor } = await application(ctx, path);
  const names = FIELD_NAMES[flavour].chat;
  const name = pickText(body, 'chat', names);
  if (name !== undefined && name.trim() === '') {
    throw invalid(`${names[0]}: can't be blank`);
  }
  const { chat } = await createChat(ctx, actor, { kind: 'group', name: name ?? DEFAULT_CHAT_NAME });
  return { token, chat };
}

/** Every chat of the application in number order (or one page of them). */
export async function* chatPages(ctx: Context, path: InstabugPath, query: unknown): Pages<ChatData> {
  const page = pageOf(query);
  const { token, actor } = await application(ctx, path);
  if (page !== null) {
    yield (await listChatsByNumber(ctx, actor, page)).map((chat) => ({ token, chat }));
    return;
  }
  let afterNumber = 0;
  for (;;) {
    const chats = await listChatsByNumber(ctx, actor, { offset: 0, limit: STREAM_PAGE, afterNumber });
    yield chats.map((chat) => ({ token, chat }));
    if (chats.length < STREAM_PAGE) {
      return;
    }
    afterNumber = chats[chats.length - 1]!.number;
  }
}

export async function showChat(ctx: Context, path: InstabugPath): Promise<ChatData> {
  const { token, chat } = await applicationChat(ctx, path);
  return { token, chat };
}

export async function renameChat(
  ctx: Context,
  flavour: Flavour,
  path: InstabugPath,
  body: unknown,
): Promise<ChatData> {
  const { token, actor, chat } = await applicationChat(ctx, path);
  const name = requireText(body, 'chat', FIELD_NAMES[flavour].chat);
  return { token, chat: await updateChat(ctx, actor, chat.id, { name }) };
}

// Messages.

export async function addMessage(
  ctx: Context,
  flavour: Flavour,
  path: InstabugPath,
  body: unknown,
): Promise<MessageData> {
  const at = await chatAddress(ctx, path);
  const text = requireText(body, 'message', FIELD_NAMES[flavour].message);
  const { message } = await onChat(ctx, path, () => sendMessage(ctx, at.actor, at.chatId, { text }));
  return { token: at.token, chatNumber: at.number, message };
}

/**
 * Every live message of the chat in number order, read STREAM_PAGE at a time (or the page `?page=`/`?per_page=`
 * name: message numbers have no gaps, so page p holds numbers (p-1)*per_page+1 .. p*per_page, deleted ones left out).
 * The chat is addressed by what is remembered; its first read checks that it is live.
 */
export async function* messagePages(ctx: Context, path: InstabugPath, query: unknown): Pages<MessageData> {
  const page = pageOf(query);
  const at = await chatAddress(ctx, path);
  const live = (messages: MessageData['message'][]) =>
    messages
      .filter((m) => m.deletedAt === null)
      .map((message) => ({ token: at.token, chatNumber: at.number, message }));
  if (page !== null) {
    const read = await onChat(ctx, path, () =>
      listMessages(ctx, at.actor, at.chatId, { after: page.offset, limit: page.limit }),
    );
    yield live(read.data);
    return;
  }
  const pages = historyPages(ctx, at.actor, at.chatId, STREAM_PAGE);
  for (let next = await onChat(ctx, path, () => pages.next()); !next.done; next = await pages.next()) {
    yield live(next.value);
  }
}

/**
 * The chat's messages containing any of the search words of the query or the body, those with more of them first,
 * then by number; none for no words.
 */
export async function searchChatMessages(
  ctx: Context,
  flavour: Flavour,
  at: ApplicationChat,
  query: unknown,
  body: unknown,
): Promise<MessageData[]> {
  const { token, actor, chat } = at;
  const q = searchText(query, body).trim();
  if (q === '') {
    return [];
  }
  if ([...q].length > MAX_QUERY_CHARS) {
    const name = flavour === 'rails' ? 'query' : 'search_query';
    throw invalid(`${name}: is too long (maximum is ${MAX_QUERY_CHARS} characters)`);
  }
  const messages = await searchChatAnyWord(ctx, actor, chat.id, q, SEARCH_HITS);
  return messages.map((message) => ({ token, chatNumber: chat.number, message }));
}

export async function showMessage(ctx: Context, path: InstabugPath): Promise<MessageData> {
  const { token, actor, chat } = await applicationChat(ctx, path);
  const seq = pathNumber(path.message ?? '', 'message');
  const message = await getMessage(ctx, actor, chat.id, seq);
  if (message.deletedAt !== null) {
    throw new AppError('not_found', `no message ${seq}`);
  }
  return { token, chatNumber: chat.number, message };
}

export async function changeMessage(
  ctx: Context,
  flavour: Flavour,
  path: InstabugPath,
  body: unknown,
): Promise<MessageData> {
  const { token, actor, chat } = await applicationChat(ctx, path);
  const seq = pathNumber(path.message ?? '', 'message');
  const text = requireText(body, 'message', FIELD_NAMES[flavour].message);
  return { token, chatNumber: chat.number, message: await editMessage(ctx, actor, chat.id, seq, { text }) };
}
