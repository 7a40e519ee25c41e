import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Actor } from '../../auth/actor.ts';
import { createChat, findTenantChat, listAllChats, listPublicGroups } from '../../chats/chat.service.ts';
import type { ChatView } from '../../chats/chat.schema.ts';
import type { Context } from '../../context.ts';
import { AppError, forbidden, invalid, notFound } from '../../errors/codes.ts';
import { reportError, toErrorResponse } from '../../errors/http.ts';
import { type OutageReporter } from '../../errors/database.ts';
import { addMember, membersOfChats, removeMember } from '../../members/member.service.ts';
import type { MessageView } from '../../messages/message.schema.ts';
import {
  chatHistory,
  findTenantMessageById,
  listMessages,
  markRead,
  sendMessage,
  unread,
} from '../../messages/message.service.ts';
import { ensureTenant } from '../../tenants/tenant.repository.ts';
import { createNumberedUser, getUser, getUsers, listUsers, updateMe } from '../../users/user.service.ts';
import type { UserView } from '../../users/user.schema.ts';
import {
  comparePks,
  dialectActor,
  fromDrfStatus,
  joinName,
  ok,
  splitName,
  toDrfMessage,
  toDrfUser,
  toRoom,
  userActor,
  type RoomMember,
} from './drf.mapping.ts';
import {
  CreateRoomBody,
  DrfUserBody,
  DrfUserPatch,
  OptionalUserQuery,
  PkParams,
  ReceiverParams,
  RoomParams,
  SendBody,
  TaskParams,
  UserQuery,
  UsersQuery,
} from './drf.schema.ts';

export interface DrfOptions {
  ctx: Context;
  /** The tenant the DRF users and rooms live in (default `drf`). */
  tenant?: string;
  /** Where database outages are reported (once each, not per request). */
  outages?: OutageReporter;
}

const tags = ['drf'];

/** True when a service refused with `code`. */
const refused = (error: unknown, code: string) => error instanceof AppError && error.code === code;

/** Errors of the chat views: `{"status": <int>, "msg": "<text>"}`, with the status the response has. */
function chatErrors(app: FastifyInstance, outages?: OutageReporter): void {
  app.setErrorHandler((error, request, reply) => {
    const answer = toErrorResponse(error, false);
    reportError(request, reply, error, answer, outages);
    const { status, body } = answer;
    return reply.status(status).send({ status, msg: body.error.message });
  });
}

/** Errors of DRF's generic user views: `{"<field>": ["<problem>"]}` for a 400, `{"detail": ...}` otherwise. */
function userErrors(app: FastifyInstance, outages?: OutageReporter): void {
  app.setErrorHandler((error, request, reply) => {
    const answer = toErrorResponse(error, false);
    reportError(request, reply, error, answer, outages);
    const { status, body } = answer;
    if (body.error.code === 'conflict') {
      return reply.status(400).send({ username: ['A user with that username already exists.'] });
    }
    const field = /^([\w.[\]]+): (.*)$/.exec(body.error.message);
    if (status === 400 && field) {
      return reply.status(400).send({ [field[1]!]: [field[2]!] });
    }
    return reply.status(status).send({ detail: status === 404 ? 'Not found.' : body.error.message });
  });
}

/**
 * The DRF chat (README, "Dialects"): users with a profile status, chatrooms (the tenant's public groups, and direct
 * chats) numbered by the chat number, sends that are stored before the answer, seen state from the read cursor.
 */
export const drfRoutes: FastifyPluginAsyncTypebox<DrfOptions> = async (
  app,
  { ctx, tenant = 'drf', outages },
) => {
  await ensureTenant(ctx.db, tenant);
  const dialect = dialectActor(tenant);

  async function requireUser(field: string, id: string | number): Promise<UserView> {
    try {
      return await getUser(ctx, dialect, String(id));
    } catch (error) {
      if (refused(error, 'not_found')) {
        throw notFound(`${field}: no user with id ${JSON.stringify(id)}`);
      }
      throw error;
    }
  }

  async function requireRoom(id: string): Promise<ChatView> {
    const room = /^[1-9][0-9]{0,14}$/.test(id)
      ? await findTenantChat(ctx, tenant, { number: Number(id) })
      : null;
    if (!room) {
      throw notFound(`chatroom ${id} not found`);
    }
    return room;
  }

  /** Each chat's members with their usernames, as `actor` (a member) sees them. */
  async function membersOf(actor: Actor, chats: ChatView[]): Promise<Map<string, RoomMember[]>> {
    const byChat = await membersOfChats(
      ctx,
      actor,
      chats.map((c) => c.id),
    );
    const ids = [...new Set([...byChat.values()].flat().map((m) => m.userId))];
    const names = new Map((await getUsers(ctx, dialect, ids)).map((u) => [u.id, u.username]));
    const result = new Map<string, RoomMember[]>();
    for (const [chatId, members] of byChat) {
      result.set(
        chatId,
        members.map((m) => ({ id: m.userId, username: names.get(m.userId) ?? '', joinedAt: m.joinedAt })),
      );
    }
    return result;
  }

  async function membersIfMember(actor: Actor, room: ChatView): Promise<RoomMember[] | null> {
    return (await membersOf(actor, [room])).get(room.id) ?? null;
  }

  async function usernames(ids: string[]): Promise<Map<string, string>> {
    return new Map((await getUsers(ctx, dialect, ids)).map((u) => [u.id, u.username]));
  }

  async function allUsers(): Promise<UserView[]> {
    const all: UserView[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: UserView[]; nextCursor: string | null } = await listUsers(ctx, dialect, {
        limit: 200,
        ...(cursor !== null ? { cursor } : {}),
      });
      all.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return all.sort((a, b) => comparePks(a.id, b.id));
  }

  async function roomWithMessages(
    actor: Actor,
    room: ChatView,
    members: RoomMember[],
    messages: MessageView[],
  ) {
    const names = await usernames([...new Set(messages.map((m) => m.authorId))]);
    return {
      ...toRoom(room, members),
      messages: messages.map((m) => toDrfMessage(room, m, members, names.get(m.authorId) ?? '')),
    };
  }

  /** Moves the reader's cursor to the last message shown: those messages are seen. */
  async function markSeen(actor: Actor, room: ChatView, messages: MessageView[]): Promise<void> {
    const last = messages[messages.length - 1];
    if (last) {
      await markRead(ctx, actor, room.id, { seq: last.seq });
    }
  }

  await app.register(async (scope) => {
    userErrors(scope, outages);
    const users = scope.withTypeProvider<TypeBoxTypeProvider>();

    users.get('/users/', { schema: { tags, querystring: UsersQuery } }, async (request) => {
      const q = request.query;
      return (await allUsers())
        .map(toDrfUser)
        .filter(
          (u) =>
            (q.id === undefined || String(u.id) === q.id) &&
            (q.username === undefined || u.username === q.username) &&
            (q.first_name === undefined || u.first_name === q.first_name) &&
            (q.last_name === undefined || u.last_name === q.last_name) &&
            (q.profile__status === undefined || u.profile.status === q.profile__status),
        );
    });

    users.post('/users/', { schema: { tags, body: DrfUserBody } }, async (request, reply) => {
      const body = request.body;
      const user = await createNumberedUser(ctx, dialect, {
        username: body.username,
        displayName: joinName(body.first_name, body.last_name),
        ...(body.profile?.status !== undefined ? { status: fromDrfStatus(body.profile.status) } : {}),
        ...(body.profile?.status_msg !== undefined ? { statusText: body.profile.status_msg } : {}),
      });
      return reply.status(201).send(toDrfUser(user));
    });

    users.get('/users/:pk/', { schema: { tags, params: PkParams } }, async (request) =>
      toDrfUser(await requireUser('pk', request.params.pk)),
    );

    async function update(id: string, body: DrfUserPatch) {
      const current = await requireUser('pk', id);
      if (body.username !== undefined && body.username !== current.username) {
        throw invalid('username: cannot be changed through this API');
      }
      const names = splitName(current.displayName);
      const displayName =
        body.first_name !== undefined || body.last_name !== undefined
          ? joinName(body.first_name ?? names.first_name, body.last_name ?? names.last_name)
          : undefined;
      const changes = {
        ...(displayName ? { displayName } : {}),
        ...(body.profile?.status !== undefined ? { status: fromDrfStatus(body.profile.status) } : {}),
        ...(body.profile?.status_msg !== undefined ? { statusText: body.profile.status_msg } : {}),
      };
      if (Object.keys(changes).length === 0) {
        return toDrfUser(current);
      }
      return toDrfUser(await updateMe(ctx, userActor(tenant, current.id), changes));
    }

    users.put('/users/:pk/', { schema: { tags, params: PkParams, body: DrfUserBody } }, async (request) =>
      update(request.params.pk, request.body),
    );
    users.patch('/users/:pk/', { schema: { tags, params: PkParams, body: DrfUserPatch } }, async (request) =>
      update(request.params.pk, request.body),
    );
    // Parley has no user deletion (a user's messages and memberships stay): DRF's answer for a disallowed method.
    users.delete('/users/:pk/', { schema: { tags, params: PkParams } }, async (_request, reply) =>
      reply.status(405).header('allow', 'GET, PUT, PATCH').send({ detail: 'Method "DELETE" not allowed.' }),
    );
  });

  await app.register(async (scope) => {
    chatErrors(scope, outages);
    const chat = scope.withTypeProvider<TypeBoxTypeProvider>();

    chat.get('/chat/chatroom/', { schema: { tags, querystring: OptionalUserQuery } }, async (request) => {
      const userId = request.query.user_id;
      if (userId === undefined) {
        return (await listPublicGroups(ctx, tenant)).map((room) => ({
          id: room.number,
          room_name: room.name,
        }));
      }
      await requireUser('user_id', userId);
      const actor = userActor(tenant, userId);
      const rooms = await listAllChats(ctx, actor);
      const members = await membersOf(actor, rooms);
      return rooms.map((room) => toRoom(room, members.get(room.id) ?? []));
    });

    chat.post('/chat/chatroom/', { schema: { tags, body: CreateRoomBody } }, async (request) => {
      const wanted = request.body.room_member ?? [];
      if (wanted.length === 0) {
        throw invalid('room_member: a room needs at least one member (an empty room is deleted)');
      }
      const ids: string[] = [];
      for (const [index, { username }] of wanted.entries()) {
        const found = (await listUsers(ctx, dialect, { username, limit: 1 })).data[0];
        if (!found) {
          throw invalid(`room_member[${index}].username: no user named "${username}"`);
        }
        ids.push(found.id);
      }
      const unique = [...new Set(ids)];
      // The first member listed owns the room; rooms are public groups, so anyone may join them.
      const { chat: room } = await createChat(ctx, userActor(tenant, unique[0]!), {
        kind: 'group',
        name: request.body.room_name,
        visibility: 'public',
        members: unique.slice(1),
      });
      const names = await usernames(unique);
      return {
        id: room.number,
        room_name: room.name,
        room_member: unique.map((id) => ({ username: names.get(id) })),
      };
    });

    chat.get(
      '/chat/chatroom/:id/',
      { schema: { tags, params: RoomParams, querystring: OptionalUserQuery } },
      async (request) => {
        const room = await requireRoom(request.params.id);
        const userId = request.query.user_id;
        if (userId === undefined) {
          if (room.kind !== 'group' || room.visibility !== 'public') {
            throw notFound(`chatroom ${request.params.id} not found`);
          }
          return { id: room.number, room_name: room.name };
        }
        await requireUser('user_id', userId);
        const members = await membersIfMember(userActor(tenant, userId), room);
        if (!members) {
          throw notFound(`chatroom ${request.params.id} not found`);
        }
        return toRoom(room, members);
      },
    );

    chat.put(
      '/chat/chatroom/:id/',
      { schema: { tags, params: RoomParams, querystring: UserQuery } },
      async (request) => {
        const room = await requireRoom(request.params.id);
        const userId = request.query.user_id;
        await requireUser('user_id', userId);
        if (room.kind === 'direct') {
          throw invalid("Can't join a private chat");
        }
        const actor = userActor(tenant, userId);
        if (await membersIfMember(actor, room)) {
          throw invalid(`user_id: user ${userId} is already a member of chatroom ${room.number}`);
        }
        await addMember(ctx, actor, room.id, { userId });
        return { status: 200, message: 'HTTP_200_OK' };
      },
    );

    chat.delete(
      '/chat/chatroom/:id/',
      { schema: { tags, params: RoomParams, querystring: UserQuery } },
      async (request, reply) => {
        const room = await requireRoom(request.params.id);
        const userId = request.query.user_id;
        await requireUser('user_id', userId);
        if (room.kind === 'direct') {
          throw invalid("Can't leave a private chat");
        }
        const actor = userActor(tenant, userId);
        if (!(await membersIfMember(actor, room))) {
          throw invalid(`user_id: user ${userId} is not a member of chatroom ${room.number}`);
        }
        // The last member leaving deletes the room (the core deletes a chat nobody is in).
        await removeMember(ctx, actor, room.id, userId);
        return reply.status(204).send();
      },
    );

    chat.post(
      '/chat/user/:receiver/',
      { schema: { tags, params: ReceiverParams, body: SendBody } },
      async (request) => {
        const sender = await requireUser('from', request.body.from);
        const receiver = await requireUser('receiver', request.params.receiver);
        if (sender.id === receiver.id) {
          throw invalid('from: cannot send a direct message to yourself');
        }
        const actor = userActor(tenant, sender.id);
        const { chat: room } = await createChat(ctx, actor, { kind: 'direct', members: [receiver.id] });
        const { message } = await sendMessage(ctx, actor, room.id, { text: request.body.text });
        return ok(message.id);
      },
    );

    chat.post(
      '/chat/group/:id/',
      { schema: { tags, params: RoomParams, body: SendBody } },
      async (request) => {
        const room = await requireRoom(request.params.id);
        const sender = await requireUser('from', request.body.from);
        try {
          const { message } = await sendMessage(ctx, userActor(tenant, sender.id), room.id, {
            text: request.body.text,
          });
          return ok(message.id);
        } catch (error) {
          // The room exists (checked above): "not found" here means the sender is not in it.
          if (refused(error, 'not_found')) {
            throw forbidden(`from: user ${sender.id} is not a member of chatroom ${room.number}`);
          }
          throw error;
        }
      },
    );

    chat.get('/chat/messages/unseen/', { schema: { tags, querystring: UserQuery } }, async (request) => {
      const userId = request.query.user_id;
      await requireUser('user_id', userId);
      const actor = userActor(tenant, userId);
      const rooms = [];
      for (const entry of (await unread(ctx, actor)).chats) {
        const room = await findTenantChat(ctx, tenant, { id: entry.chatId });
        if (!room) {
          continue;
        }
        const messages: MessageView[] = [];
        let after = entry.lastReadSeq;
        for (;;) {
          const page = await listMessages(ctx, actor, room.id, { after, limit: 200 });
          messages.push(...page.data);
          if (page.nextCursor === null || page.data.length === 0) {
            break;
          }
          after = page.data[page.data.length - 1]!.seq;
        }
        const unseen = messages.filter((m) => m.authorId !== userId && m.deletedAt === null);
        const members = (await membersIfMember(actor, room)) ?? [];
        rooms.push(await roomWithMessages(actor, room, members, unseen));
        await markSeen(actor, room, messages);
      }
      return ok(rooms);
    });

    chat.get(
      '/chat/messages/:id/',
      { schema: { tags, params: RoomParams, querystring: UserQuery } },
      async (request) => {
        const room = await requireRoom(request.params.id);
        const userId = request.query.user_id;
        await requireUser('user_id', userId);
        const actor = userActor(tenant, userId);
        const history = await chatHistory(ctx, actor, room.id);
        const members = (await membersIfMember(actor, room)) ?? [];
        const data = await roomWithMessages(
          actor,
          room,
          members,
          history.filter((m) => m.deletedAt === null),
        );
        await markSeen(actor, room, history);
        return ok(data);
      },
    );

    chat.get('/chat/task_state/:taskId', { schema: { tags, params: TaskParams } }, async (request) => {
      // The task id is the stored message's id (a UUIDv7 with 74 random bits): the send is already done.
      const message = await findTenantMessageById(ctx, tenant, request.params.taskId);
      const room = message ? await findTenantChat(ctx, tenant, { id: message.chatId }) : null;
      if (!message || !room) {
        throw notFound(`task ${request.params.taskId} not found`);
      }
      const members = (await membersIfMember(userActor(tenant, message.authorId), room)) ?? [];
      const names = await usernames([message.authorId]);
      return {
        state: 'SUCCESS',
        result: {
          ...toDrfMessage(room, message, members, names.get(message.authorId) ?? ''),
          room: toRoom(room, members),
        },
      };
    });
  });
};
