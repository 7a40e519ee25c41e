import { createChat, findTenantChat, listAllChats } from '../../chats/chat.service.ts';
import type { Context } from '../../context.ts';
import { forbidden, notFound } from '../../errors/codes.ts';
import { membersOfChats } from '../../members/member.service.ts';
import { sendMessage } from '../../messages/message.service.ts';
import { tenantHistoryPages } from '../../messages/history.service.ts';
import type { MessageView } from '../../messages/message.schema.ts';
import { createUser, getUser, getUsers } from '../../users/user.service.ts';
import { checkedAfter, ifNotFound, refused } from '../dialect.errors.ts';
import { openTenantDialect, type TenantDialect } from '../dialect.tenant.ts';
import { toAvitoChat, toAvitoMessage, userActor } from './avito.mapping.ts';
import type {
  AddChatBody,
  AddMessageBody,
  AddUserBody,
  AvitoChat,
  AvitoMessage,
  GetChatsBody,
  GetMessagesBody,
} from './avito.schema.ts';

/** Avito's tenant (created on the first start) and the dialect's administrator in it. */
export function openAvito(ctx: Context, tenantId: string): Promise<TenantDialect> {
  return openTenantDialect(ctx, tenantId, 'avito-dialect');
}

async function requireUser(avito: TenantDialect, field: string, id: string): Promise<void> {
  await ifNotFound(getUser(avito.ctx, avito.admin, id), () => notFound(`${field}: no user with id "${id}"`));
}

/** `users/add`: the new user's id. */
export async function addUser(avito: TenantDialect, body: AddUserBody): Promise<string> {
  const user = await createUser(avito.ctx, avito.admin, { username: body.username });
  return user.id;
}

/** `chats/add`: a private group owned by the first user listed, the others its members; the chat's id. */
export async function addChat(avito: TenantDialect, body: AddChatBody): Promise<string> {
  const ids = [...new Set(body.users)];
  const found = new Set((await getUsers(avito.ctx, avito.admin, ids)).map((u) => u.id));
  const index = body.users.findIndex((id) => !found.has(id));
  if (index >= 0) {
    throw notFound(`users[${index}]: no user with id "${body.users[index]}"`);
  }
  const [owner, ...others] = ids as [string, ...string[]];
  const { chat } = await createChat(avito.ctx, userActor(avito.tenantId, owner), {
    kind: 'group',
    name: body.name,
    members: others,
  });
  return chat.id;
}

/** `messages/add`: the new message's id. */
export async function addMessage(avito: TenantDialect, body: AddMessageBody): Promise<string> {
  const { chat, author, text } = body;
  // The send checks the chat, the membership and the text; only a refusal looks closer, in the order of the answers.
  const { message } = await checkedAfter(
    () => sendMessage(avito.ctx, userActor(avito.tenantId, author), chat, { text }),
    async (refusal) => {
      if (!(await findTenantChat(avito.ctx, avito.tenantId, { id: chat }))) {
        throw notFound(`chat: no chat with id "${chat}"`);
      }
      await requireUser(avito, 'author', author);
      if (refused(refusal, 'not_found')) {
        // The chat and the author exist: "not found" means that the author is not in it.
        throw forbidden(`author: user "${author}" is not a member of chat "${chat}"`);
      }
    },
  );
  return message.id;
}

/** `chats/get`: the user's groups, latest activity first. */
export async function chatsOf(avito: TenantDialect, body: GetChatsBody): Promise<AvitoChat[]> {
  await requireUser(avito, 'user', body.user);
  const actor = userActor(avito.tenantId, body.user);
  // Avito has groups only; a direct chat opened through the native API is not an Avito chat.
  const chats = (await listAllChats(avito.ctx, actor)).filter((c) => c.kind === 'group');
  const members = await membersOfChats(
    avito.ctx,
    actor,
    chats.map((c) => c.id),
  );
  return chats.map((c) => toAvitoChat(c, members.get(c.id) ?? []));
}

/** Messages read per query while a chat's messages are answered (the first page may be all of them). */
export const MESSAGES_PAGE = 500;

/** The Avito view of a page the history cache shares (frozen): made once per page, and shared in turn. */
const shownPages = new WeakMap<readonly MessageView[], AvitoMessage[]>();

function livePage(page: readonly MessageView[]): AvitoMessage[] {
  const known = shownPages.get(page);
  if (known) {
    return known;
  }
  const shown = page.filter((m) => m.deletedAt === null).map(toAvitoMessage);
  if (Object.isFrozen(page)) {
    shownPages.set(page, shown);
  }
  return shown;
}

/**
 * `messages/get`: the chat's live messages, earliest first, read a page at a time: the first page, and when it may
 * not be all, the rest to stream after it (so that a long chat is never held whole in memory). The first page is
 * read before anything is answered: an unknown chat is a 404.
 */
export async function messagesOf(
  avito: TenantDialect,
  body: GetMessagesBody,
): Promise<{ first: AvitoMessage[]; rest: AsyncGenerator<AvitoMessage[]> | null }> {
  const pages = tenantHistoryPages(avito.ctx, avito.tenantId, body.chat, MESSAGES_PAGE);
  const first = await ifNotFound(pages.next(), () => notFound(`chat: no chat with id "${body.chat}"`));
  if (first.done === true || first.value.length < MESSAGES_PAGE) {
    return { first: first.done === true ? [] : livePage(first.value), rest: null };
  }
  async function* rest(): AsyncGenerator<AvitoMessage[]> {
    for await (const page of pages) {
      yield livePage(page);
    }
  }
  return { first: livePage(first.value), rest: rest() };
}
