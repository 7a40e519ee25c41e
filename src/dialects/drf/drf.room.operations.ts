import type { Actor } from '../../auth/actor.ts';
import type { ChatView } from '../../chats/chat.schema.ts';
import {
  chatIdByNumber,
  createHostedGroup,
  findTenantChat,
  listAllChats,
  listPublicGroups,
} from '../../chats/chat.service.ts';
import { invalid, notFound } from '../../errors/codes.ts';
import { addMember, membersOfChats, removeMember } from '../../members/member.service.ts';
import type { TenantDialect } from '../dialect.tenant.ts';
import type { UserView } from '../../users/user.schema.ts';
import { toRoom, userActor, validationText, type RoomMember } from './drf.mapping.ts';
import { isRecord } from './drf.body.ts';
import { findByUsername, requireUser, usernames } from './drf.user.operations.ts';

const ROOM_NUMBER = /^[1-9][0-9]{0,14}$/;

/** The room numbered `id` (a chat's number), or a 404. */
export async function requireRoom(drf: TenantDialect, id: string): Promise<ChatView> {
  const room = ROOM_NUMBER.test(id)
    ? await findTenantChat(drf.ctx, drf.tenantId, { number: Number(id) })
    : null;
  if (!room) {
    throw notFound(NO_ROOM);
  }
  return room;
}

/**
 * The id of the room numbered `id` (remembered once read), or null when there is none: for the hot paths, whose own
 * work checks that the room is still live.
 */
export async function roomIdByNumber(drf: TenantDialect, id: string): Promise<string | null> {
  return ROOM_NUMBER.test(id) ? await chatIdByNumber(drf.ctx, drf.tenantId, Number(id)) : null;
}

/** The room numbered `id` and the user `?user_id=` names, acting as a member (the original finds the user first). */
export async function roomAndUser(
  drf: TenantDialect,
  id: string,
  userId: string,
): Promise<{ room: ChatView; actor: Actor; user: UserView }> {
  const user = await requireUser(drf, userId);
  const room = await requireRoom(drf, id);
  return { room, actor: userActor(drf.tenantId, userId), user };
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
      room_name: room.name ?? '',
    }));
  }
  await requireUser(drf, userId);
  const actor = userActor(drf.tenantId, userId);
  const rooms = await listAllChats(drf.ctx, actor);
  const members = await membersOf(drf, actor, rooms);
  return rooms.map((room) => toRoom(room, members.get(room.id) ?? []));
}

/** What the original says (`str()` of Django's exceptions) for a room, a membership it does not find. */
export const NO_ROOM = 'ChatRoom matching query does not exist.';
export const NO_MEMBERSHIP = 'Membership matching query does not exist.';

/** A refusal in the original's words: `str()` of a Django `ValidationError`, `['<message>']`. */
export const refusal = (message: string) => invalid(validationText(message));

/** The original's refusal of a body that is not a non-empty object (its wording, typo included). */
export const WRONG_BODY = 'Body is empty or wrong foramt';

/** The original's check that a body has the attributes a view reads: `Attribute/s from - text missing`. */
export function requireAttributes(body: unknown, ...names: string[]): Record<string, unknown> {
  if (!isRecord(body) || Object.keys(body).length === 0) {
    throw refusal(WRONG_BODY);
  }
  const missing = names.filter((name) => body[name] === undefined);
  if (missing.length > 0) {
    throw refusal(`Attribute/s ${missing.join(' - ')} missing`);
  }
  return body;
}

const MEMBER_SHAPE = 'a list of objects {"username": "<name>"}, e.g. [{"username": "ann"}]';

/** `room_member`: a list of `{"username"}` objects (none: the room starts empty). */
function readRoomMembers(value: unknown): string[] {
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value)) {
    throw refusal(`room_member: must be ${MEMBER_SHAPE}`);
  }
  if (value.length > 1000) {
    throw refusal('room_member: at most 1000 members at once');
  }
  return value.map((item: unknown, index) => {
    const username = isRecord(item) ? item.username : undefined;
    if (typeof username !== 'string' || username.trim() === '' || username.length > 150) {
      throw refusal(
        `room_member[${index}]: must be an object {"username": "<name>"} with a username, got ${JSON.stringify(item)}`,
      );
    }
    return username;
  });
}

/**
 * `POST /chat/chatroom/`: a public group (so that anyone may join it, as in the source) that nobody creates: its
 * members are the users listed (the first of them its owner), none at all for an empty room.
 */
export async function createRoom(drf: TenantDialect, body: unknown) {
  const fields = requireAttributes(body, 'room_name');
  const name = typeof fields.room_name === 'number' ? String(fields.room_name) : fields.room_name;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 255) {
    throw refusal('room_name: must be a non-blank text of at most 255 characters');
  }
  const ids: string[] = [];
  for (const [index, username] of readRoomMembers(fields.room_member).entries()) {
    const found = await findByUsername(drf, username);
    if (!found) {
      throw refusal(`room_member[${index}].username: no user named "${username}"`);
    }
    ids.push(found.id);
  }
  const unique = [...new Set(ids)];
  const { chat: room } = await createHostedGroup(drf.ctx, drf.admin, {
    name,
    visibility: 'public',
    members: unique,
  });
  const names = await usernames(drf, unique);
  return toRoom(
    room,
    unique.map((id) => ({ id, username: names.get(id) ?? '', joinedAt: room.createdAt })),
  );
}

/** `GET /chat/chatroom/<id>/`: a public room to anyone, any room with its members to one of them. */
export async function showRoom(drf: TenantDialect, id: string, userId: string | undefined) {
  const room = await requireRoom(drf, id);
  if (userId === undefined) {
    if (room.kind !== 'group' || room.visibility !== 'public') {
      throw notFound(NO_ROOM);
    }
    return { id: room.number, room_name: room.name ?? '' };
  }
  await requireUser(drf, userId);
  const members = await membersIfMember(drf, userActor(drf.tenantId, userId), room);
  if (!members) {
    throw notFound(NO_MEMBERSHIP);
  }
  return toRoom(room, members);
}

/** `PUT /chat/chatroom/<id>/`: the user joins the group (the original checks membership first). */
export async function joinRoom(drf: TenantDialect, id: string, userId: string): Promise<void> {
  const { room, actor, user } = await roomAndUser(drf, id, userId);
  if (await membersIfMember(drf, actor, room)) {
    throw refusal(`User ${user.username} is already part of this group`);
  }
  if (room.kind === 'direct') {
    throw refusal("Can't join a private chat");
  }
  await addMember(drf.ctx, actor, room.id, { userId });
}

/** `DELETE /chat/chatroom/<id>/`: the user leaves the group; the last one out deletes it (as the core does). */
export async function leaveRoom(drf: TenantDialect, id: string, userId: string): Promise<void> {
  const { room, actor, user } = await roomAndUser(drf, id, userId);
  if (!(await membersIfMember(drf, actor, room))) {
    throw refusal(`User ${user.username} is not part of this group`);
  }
  if (room.kind === 'direct') {
    throw refusal("Can't leave a private chat");
  }
  await removeMember(drf.ctx, actor, room.id, userId);
}
