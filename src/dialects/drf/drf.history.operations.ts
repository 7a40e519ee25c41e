import type { Actor } from '../../auth/actor.ts';
import type { ChatView } from '../../chats/chat.schema.ts';
import { listAllChats } from '../../chats/chat.service.ts';
import { notFound } from '../../errors/codes.ts';
import { namedMembersOf } from '../../members/member.service.ts';
import { listMessages } from '../../messages/history.service.ts';
import type { MessageView } from '../../messages/message.schema.ts';
import { markRead } from '../../messages/message.service.ts';
import { checkedAfter, refused } from '../dialect.errors.ts';
import type { TenantDialect } from '../dialect.tenant.ts';
import { toDrfMessage, toRoom, userActor, type RoomChat, type RoomMember } from './drf.mapping.ts';
import { membersIfMember, NO_MEMBERSHIP, requireRoom, roomIdByNumber } from './drf.room.operations.ts';
import { requireUser, usernames } from './drf.user.operations.ts';

/** DRF's reads of rooms' messages: a room with its messages (now seen), every room's unseen messages. */

/** A room with the messages shown in it. */
async function roomWithMessages(
  drf: TenantDialect,
  room: ChatView,
  members: RoomMember[],
  messages: MessageView[],
) {
  const names = await usernames(drf, [...new Set(messages.map((m) => m.authorId))]);
  return {
    ...toRoom(room, members),
    messages: messages.map((m) => toDrfMessage(room, m, members, names.get(m.authorId) ?? '')),
  };
}

/** Moves the reader's cursor to the last message shown: those messages are seen. */
async function markSeen(drf: TenantDialect, actor: Actor, room: ChatView, messages: MessageView[]) {
  const last = messages[messages.length - 1];
  if (last) {
    await markRead(drf.ctx, actor, room.id, { seq: last.seq });
  }
}

/** Every message of the room after `after`, as `actor` reads them, in the pages read (cached ones are shared). */
async function pagesAfter(drf: TenantDialect, actor: Actor, chatId: string, seq: number) {
  const pages: (readonly MessageView[])[] = [];
  for (let after = seq; ;) {
    const page = await listMessages(drf.ctx, actor, chatId, { after, limit: 200 });
    pages.push(page.data);
    if (page.nextCursor === null || page.data.length === 0) {
      return pages;
    }
    after = page.data[page.data.length - 1]!.seq;
  }
}

/** Every message of the room after `after`, as `actor` reads them. */
async function messagesAfter(drf: TenantDialect, actor: Actor, chatId: string, seq: number) {
  return (await pagesAfter(drf, actor, chatId, seq)).flat();
}

type DrfMessage = ReturnType<typeof toDrfMessage>;

/**
 * The views of a cached page's live messages (the page is frozen, and shared while its room is unchanged), with
 * what they show of the room: made once per page and the room's context they were made in (its number, each
 * author's username and membership), and shared while both are the same.
 */
const shownPages = new WeakMap<readonly MessageView[], { context: string; views: readonly DrfMessage[] }>();

function roomPageViews(
  room: RoomChat,
  page: readonly MessageView[],
  members: RoomMember[],
  names: Map<string, string>,
): readonly DrfMessage[] {
  const authors = new Set<string>();
  for (const m of page) {
    authors.add(m.authorId);
  }
  const byId = new Map(members.map((m) => [m.id, m]));
  let context = String(room.number);
  for (const id of authors) {
    const member = byId.get(id);
    context += `\u0000${id}\u0001${names.get(id) ?? ''}\u0001${member?.username ?? ''}\u0001${member?.joinedAt ?? ''}`;
  }
  const known = shownPages.get(page);
  if (known?.context === context) {
    return known.views;
  }
  const views = page
    .filter((m) => m.deletedAt === null)
    .map((m) => toDrfMessage(room, m, members, names.get(m.authorId) ?? ''));
  if (Object.isFrozen(page)) {
    shownPages.set(page, { context, views: Object.freeze(views) });
  }
  return views;
}

/**
 * `GET /chat/messages/unseen/`: every room of the user, each with the others' live messages after the user's cursor
 * (none: `[]`), which are now seen.
 */
export async function unseenMessages(drf: TenantDialect, userId: string) {
  await requireUser(drf, userId);
  const actor = userActor(drf.tenantId, userId);
  const rooms = [];
  for (const room of (await listAllChats(drf.ctx, actor)).sort((a, b) => a.number - b.number)) {
    const messages = room.unreadCount > 0 ? await messagesAfter(drf, actor, room.id, room.lastReadSeq) : [];
    const unseen = messages.filter((m) => m.authorId !== userId && m.deletedAt === null);
    const members = (await membersIfMember(drf, actor, room)) ?? [];
    rooms.push(await roomWithMessages(drf, room, members, unseen));
    await markSeen(drf, actor, room, messages);
  }
  return rooms;
}

/**
 * The room (what its answers show of it) with its members and their usernames, the reader's read cursor, and the
 * usernames of `authors`: one read, and a second only for authors who have left the room. Null when the
 * reader is not in the live room (any more).
 */
async function roomContext(drf: TenantDialect, actor: Actor, chatId: string, authors: Set<string>) {
  const named = await namedMembersOf(drf.ctx, actor, chatId);
  if (!named) {
    return null;
  }
  const names = new Map(named.members.map((v) => [v.userId, v.username]));
  const gone = [...authors].filter((id) => !names.has(id));
  if (gone.length > 0) {
    for (const [id, name] of await usernames(drf, gone)) {
      names.set(id, name);
    }
  }
  const members: RoomMember[] = named.members.map((v) => ({
    id: v.userId,
    username: v.username,
    joinedAt: v.joinedAt,
  }));
  const lastReadSeq = named.members.find((v) => v.userId === actor.userId)?.lastReadSeq ?? 0;
  return { room: named.chat, members, names, lastReadSeq };
}

/**
 * `GET /chat/messages/<id>/`: the room with its live messages, now seen. The room is found by the number remembered
 * for it, and its messages are the member's cached pages: checking the room, the user and the membership is left
 * to those reads, and the original's checks run, in its order, only when they refuse (an unknown user before an
 * unknown room, a membership it does not find last). The room itself comes with its members, in one read.
 */
export async function roomMessages(drf: TenantDialect, roomId: string, userId: string) {
  // The original's checks, in its order; what they find is the answer, else the membership it does not find.
  const explain = async (): Promise<never> => {
    await requireUser(drf, userId);
    await requireRoom(drf, roomId);
    throw notFound(NO_MEMBERSHIP);
  };
  const chatId = await roomIdByNumber(drf, roomId);
  if (chatId === null) {
    return explain();
  }
  const actor = userActor(drf.tenantId, userId);
  const pages = await checkedAfter(
    () => pagesAfter(drf, actor, chatId, 0),
    async (refusal) => {
      if (refused(refusal, 'not_found')) {
        await explain();
      }
    },
  );
  const authors = new Set<string>();
  for (const page of pages) {
    for (const m of page) {
      if (m.deletedAt === null) {
        authors.add(m.authorId);
      }
    }
  }
  const context = await roomContext(drf, actor, chatId, authors);
  if (!context) {
    return explain();
  }
  const { room, members, names, lastReadSeq } = context;
  const data = {
    ...toRoom(room, members),
    messages: pages.flatMap((page) => roomPageViews(room, page, members, names)),
  };
  // Seen already, up to the last: the cursor stays where it is, and nothing is written.
  const last = pages[pages.length - 1]?.at(-1);
  if (last && last.seq > lastReadSeq) {
    await markRead(drf.ctx, actor, chatId, { seq: last.seq });
  }
  return data;
}
