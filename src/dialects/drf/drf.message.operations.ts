import type { Actor } from '../../auth/actor.ts';
import type { ChatView } from '../../chats/chat.schema.ts';
import { createChat, findTenantChat } from '../../chats/chat.service.ts';
import { forbidden, invalid, notFound } from '../../errors/codes.ts';
import type { MessageView } from '../../messages/message.schema.ts';
import { namedMembersOf } from '../../members/member.service.ts';
import { listMessages } from '../../messages/history.service.ts';
import { findTenantMessageById, markRead, sendMessage, unread } from '../../messages/message.service.ts';
import { checkedAfter, refused } from '../dialect.errors.ts';
import type { TenantDialect } from '../dialect.tenant.ts';
import { toDrfMessage, toRoom, userActor, type RoomMember } from './drf.mapping.ts';
import { membersIfMember, requireRoom, requireRoomId } from './drf.room.operations.ts';
import type { SendBody } from './drf.schema.ts';
import { requireUser, usernames } from './drf.user.operations.ts';

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

/** `POST /chat/user/<receiver>/`: a message in the direct chat of the two (opened if need be); its id. */
export async function sendDirect(drf: TenantDialect, receiverId: string, body: SendBody): Promise<string> {
  const sender = await requireUser(drf, 'from', body.from);
  const receiver = await requireUser(drf, 'receiver', receiverId);
  if (sender.id === receiver.id) {
    throw invalid('from: cannot send a direct message to yourself');
  }
  const actor = userActor(drf.tenantId, sender.id);
  const { chat: room } = await createChat(drf.ctx, actor, { kind: 'direct', members: [receiver.id] });
  const { message } = await sendMessage(drf.ctx, actor, room.id, { text: body.text });
  return message.id;
}

/** `POST /chat/group/<id>/`: a message in the room, from one of its members; its id. */
export async function sendToRoom(drf: TenantDialect, roomId: string, body: SendBody): Promise<string> {
  const chatId = await requireRoomId(drf, roomId);
  // The send checks the room, the membership and the text; only a refusal looks closer, in the order of the answers.
  const { message } = await checkedAfter(
    () => sendMessage(drf.ctx, userActor(drf.tenantId, String(body.from)), chatId, { text: body.text }),
    async (refusal) => {
      const room = await requireRoom(drf, roomId);
      const sender = await requireUser(drf, 'from', body.from);
      if (refused(refusal, 'not_found')) {
        // The room and the sender exist: "not found" means that the sender is not in it.
        throw forbidden(`from: user ${sender.id} is not a member of chatroom ${room.number}`);
      }
    },
  );
  return message.id;
}

/** Every message of the room after `after`, as `actor` reads them. */
async function messagesAfter(drf: TenantDialect, actor: Actor, room: ChatView, seq: number) {
  const messages: MessageView[] = [];
  for (let after = seq; ;) {
    const page = await listMessages(drf.ctx, actor, room.id, { after, limit: 200 });
    messages.push(...page.data);
    if (page.nextCursor === null || page.data.length === 0) {
      return messages;
    }
    after = page.data[page.data.length - 1]!.seq;
  }
}

/** `GET /chat/messages/unseen/`: each room's live messages from others after the user's cursor, now seen. */
export async function unseenMessages(drf: TenantDialect, userId: string) {
  await requireUser(drf, 'user_id', userId);
  const actor = userActor(drf.tenantId, userId);
  const rooms = [];
  for (const entry of (await unread(drf.ctx, actor)).chats) {
    const room = await findTenantChat(drf.ctx, drf.tenantId, { id: entry.chatId });
    if (!room) {
      continue;
    }
    const messages = await messagesAfter(drf, actor, room, entry.lastReadSeq);
    const unseen = messages.filter((m) => m.authorId !== userId && m.deletedAt === null);
    const members = (await membersIfMember(drf, actor, room)) ?? [];
    rooms.push(await roomWithMessages(drf, room, members, unseen));
    await markSeen(drf, actor, room, messages);
  }
  return rooms;
}

/**
 * The room's members with their usernames, the reader's read cursor, and the usernames of `messages`' authors: one
 * read, and a second only for authors who have left the room.
 */
async function roomContext(drf: TenantDialect, actor: Actor, room: ChatView, messages: MessageView[]) {
  const views = await namedMembersOf(drf.ctx, actor, room.id);
  const names = new Map(views.map((v) => [v.userId, v.username]));
  const gone = [...new Set(messages.map((m) => m.authorId))].filter((id) => !names.has(id));
  if (gone.length > 0) {
    for (const [id, name] of await usernames(drf, gone)) {
      names.set(id, name);
    }
  }
  const members: RoomMember[] = views.map((v) => ({
    id: v.userId,
    username: v.username,
    joinedAt: v.joinedAt,
  }));
  return { members, names, lastReadSeq: views.find((v) => v.userId === actor.userId)?.lastReadSeq ?? 0 };
}

/** `GET /chat/messages/<id>/`: the room with its live messages, now seen. */
export async function roomMessages(drf: TenantDialect, roomId: string, userId: string) {
  const room = await requireRoom(drf, roomId);
  const actor = userActor(drf.tenantId, userId);
  // The member's pages (read again only when the room changed); refused: an unknown user (404), else not a member.
  const history = await checkedAfter(
    () => messagesAfter(drf, actor, room, 0),
    async () => {
      await requireUser(drf, 'user_id', userId);
    },
  );
  const live = history.filter((m) => m.deletedAt === null);
  const { members, names, lastReadSeq } = await roomContext(drf, actor, room, live);
  const data = {
    ...toRoom(room, members),
    messages: live.map((m) => toDrfMessage(room, m, members, names.get(m.authorId) ?? '')),
  };
  // Seen already, up to the last: the cursor stays where it is, and nothing is written.
  const last = history[history.length - 1];
  if (last && last.seq > lastReadSeq) {
    await markRead(drf.ctx, actor, room.id, { seq: last.seq });
  }
  return data;
}

/**
 * `GET /chat/task_state/<id>`: the task id is the stored message's id (a UUIDv7 with 74 random bits), and the send
 * is already done.
 */
export async function taskState(drf: TenantDialect, taskId: string) {
  const message = await findTenantMessageById(drf.ctx, drf.tenantId, taskId);
  const room = message ? await findTenantChat(drf.ctx, drf.tenantId, { id: message.chatId }) : null;
  if (!message || !room) {
    throw notFound(`task ${taskId} not found`);
  }
  const members = (await membersIfMember(drf, userActor(drf.tenantId, message.authorId), room)) ?? [];
  const names = await usernames(drf, [message.authorId]);
  return {
    state: 'SUCCESS',
    result: {
      ...toDrfMessage(room, message, members, names.get(message.authorId) ?? ''),
      room: toRoom(room, members),
    },
  };
}
