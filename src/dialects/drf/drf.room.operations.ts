import type { Actor } from '../../auth/actor.ts';
import type { ChatView } from '../../chats/chat.schema.ts';
import {
  chatIdByNumber,
  createChat,
  findTenantChat,
  listAllChats,
  listPublicGroups,
} from '../../chats/chat.service.ts';
import { invalid, notFound } from '../../errors/codes.ts';
import { addMember, membersOfChats, removeMember } from '../../members/member.service.ts';
import type { TenantDialect } from '../dialect.tenant.ts';
import { toRoom, userActor, type RoomMember } from './drf.mapping.ts';
import type { CreateRoomBody } from './drf.schema.ts';
import { findByUsername, requireUser, usernames } from './drf.user.operations.ts';

const ROOM_NUMBER = /^[1-9][0-9]{0,14}$/;

/** The room numbered `id` (a chat's number), or a 404. */
export async function requireRoom(drf: TenantDialect, id: string): Promise<ChatView> {
  const room = ROOM_NUMBER.test(id)
    ? await findTenantChat(drf.ctx, drf.tenantId, { number: Number(id) })
    : null;
  if (!room) {
    throw notFound(`chatroom ${id} not found`);
  }
  return room;
}

/**
 * The id of the room numbered `id` (remembered once read), or a 404: for the hot paths, whose own work checks that
 * the room is still live.
 */
export async function requireRoomId(drf: TenantDialect, id: string): Promise<string> {
  const chatId = ROOM_NUMBER.test(id) ? await chatIdByNumber(drf.ctx, drf.tenantId, Number(id)) : null;
  if (chatId === null) {
    throw notFound(`chatroom ${id} not found`);
  }
  return chatId;
}

/** The room numbered `id` and the user `?user_id=` names, acting as a member. */
export async function roomAndUser(
  drf: TenantDialect,
  id: string,
  userId: string,
): Promise<{ room: ChatView; actor: Actor }> {
  const room = await requireRoom(drf, id);
  await requireUser(drf, 'user_id', userId);
  return { room, actor: userActor(drf.tenantId, userId) };
}

/** Each chat's members with their usernames, as `actor` (a member) sees them. */
async function membersOf(
  drf: TenantDialect,
  actor: Actor,
  chats: ChatView[],
): Promise<Map<string, RoomMember[]>> {
  const byChat = await membersOfChats(
    drf.ctx,
    actor,
    chats.map((c) => c.id),
  );
  const names = await usernames(drf, [...new Set([...byChat.values()].flat().map((m) => m.userId))]);
  const result = new Map<string, RoomMember[]>();
  for (const [chatId, members] of byChat) {
    result.set(
      chatId,
      members.map((m) => ({ id: m.userId, username: names.get(m.userId) ?? '', joinedAt: m.joinedAt })),
    );
  }
  return result;
}

/** The room's members when `actor` is one of them, else null. */
export async function membersIfMember(
  drf: TenantDialect,
  actor: Actor,
  room: ChatView,
): Promise<RoomMember[] | null> {
  return (await membersOf(drf, actor, [room])).get(room.id) ?? null;
}

/** `GET /chat/chatroom/`: the tenant's public rooms, or the rooms of `userId` with their members. */
export async function listRooms(drf: TenantDialect, userId: string | undefined) {
  if (userId === undefined) {
    return (await listPublicGroups(drf.ctx, drf.tenantId)).map((room) => ({
      id: room.number,
      room_name: room.name,
    }));
  }
  await requireUser(drf, 'user_id', userId);
  const actor = userActor(drf.tenantId, userId);
  const rooms = await listAllChats(drf.ctx, actor);
  const members = await membersOf(drf, actor, rooms);
  return rooms.map((room) => toRoom(room, members.get(room.id) ?? []));
}

/** `POST /chat/chatroom/`: a public group owned by the first member listed, so that anyone may join it. */
export async function createRoom(drf: TenantDialect, body: CreateRoomBody) {
  const wanted = body.room_member ?? [];
  if (wanted.length === 0) {
    throw invalid('room_member: a room needs at least one member (an empty room is deleted)');
  }
  const ids: string[] = [];
  for (const [index, { username }] of wanted.entries()) {
    const found = await findByUsername(drf, username);
    if (!found) {
      throw invalid(`room_member[${index}].username: no user named "${username}"`);
    }
    ids.push(found.id);
  }
  const unique = [...new Set(ids)];
  const { chat: room } = await createChat(drf.ctx, userActor(drf.tenantId, unique[0]!), {
    kind: 'group',
    name: body.room_name,
    visibility: 'public',
    members: unique.slice(1),
  });
  const names = await usernames(drf, unique);
  return {
    id: room.number,
    room_name: room.name,
    room_member: unique.map((id) => ({ username: names.get(id) })),
  };
}

/** `GET /chat/chatroom/<id>/`: a public room to anyone, any room with its members to one of them. */
export async function showRoom(drf: TenantDialect, id: string, userId: string | undefined) {
  const room = await requireRoom(drf, id);
  if (userId === undefined) {
    if (room.kind !== 'group' || room.visibility !== 'public') {
      throw notFound(`chatroom ${id} not found`);
    }
    return { id: room.number, room_name: room.name };
  }
  await requireUser(drf, 'user_id', userId);
  const members = await membersIfMember(drf, userActor(drf.tenantId, userId), room);
  if (!members) {
    throw notFound(`chatroom ${id} not found`);
  }
  return toRoom(room, members);
}

/** `PUT /chat/chatroom/<id>/`: the user joins the group. */
export async function joinRoom(drf: TenantDialect, id: string, userId: string): Promise<void> {
  const { room, actor } = await roomAndUser(drf, id, userId);
  if (room.kind === 'direct') {
    throw invalid("Can't join a private chat");
  }
  if (await membersIfMember(drf, actor, room)) {
    throw invalid(`user_id: user ${userId} is already a member of chatroom ${room.number}`);
  }
  await addMember(drf.ctx, actor, room.id, { userId });
}

/** `DELETE /chat/chatroom/<id>/`: the user leaves the group; the last one out deletes it (as the core does). */
export async function leaveRoom(drf: TenantDialect, id: string, userId: string): Promise<void> {
  const { room, actor } = await roomAndUser(drf, id, userId);
  if (room.kind === 'direct') {
    throw invalid("Can't leave a private chat");
  }
  if (!(await membersIfMember(drf, actor, room))) {
    throw invalid(`user_id: user ${userId} is not a member of chatroom ${room.number}`);
  }
  await removeMember(drf.ctx, actor, room.id, userId);
}
