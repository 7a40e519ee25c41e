import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { OutageReporter } from '../../errors/database.ts';
import { shapeErrors } from '../dialect.errors.ts';
import type { TenantDialect } from '../dialect.tenant.ts';
import { ok } from './drf.mapping.ts';
import { roomMessages, sendDirect, sendToRoom, taskState, unseenMessages } from './drf.message.operations.ts';
import { createRoom, joinRoom, leaveRoom, listRooms, showRoom } from './drf.room.operations.ts';
import {
  CreateRoomBody,
  OptionalUserQuery,
  ReceiverParams,
  RoomParams,
  SendBody,
  TaskParams,
  UserQuery,
} from './drf.schema.ts';

const tags = ['drf'];

/** DRF's chat views: rooms, sends, seen state; errors `{"status": <int>, "msg": "<text>"}` with that status. */
export const drfChatRoutes: FastifyPluginAsyncTypebox<{
  drf: TenantDialect;
  outages?: OutageReporter | undefined;
}> = async (app, { drf, outages }) => {
  shapeErrors(app, { exposeStack: false, outages }, ({ status, body }) => ({
    status,
    body: { status, msg: body.error.message },
  }));

  app.get('/chat/chatroom/', { schema: { tags, querystring: OptionalUserQuery } }, async (request) =>
    listRooms(drf, request.query.user_id),
  );

  app.post('/chat/chatroom/', { schema: { tags, body: CreateRoomBody } }, async (request) =>
    createRoom(drf, request.body),
  );

  app.get(
    '/chat/chatroom/:id/',
    { schema: { tags, params: RoomParams, querystring: OptionalUserQuery } },
    async (request) => showRoom(drf, request.params.id, request.query.user_id),
  );

  app.put(
    '/chat/chatroom/:id/',
    { schema: { tags, params: RoomParams, querystring: UserQuery } },
    async (request) => {
      await joinRoom(drf, request.params.id, request.query.user_id);
      return { status: 200, message: 'HTTP_200_OK' };
    },
  );

  app.delete(
    '/chat/chatroom/:id/',
    { schema: { tags, params: RoomParams, querystring: UserQuery } },
    async (request, reply) => {
      await leaveRoom(drf, request.params.id, request.query.user_id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/chat/user/:receiver/',
    { schema: { tags, params: ReceiverParams, body: SendBody } },
    async (request) => ok(await sendDirect(drf, request.params.receiver, request.body)),
  );

  app.post('/chat/group/:id/', { schema: { tags, params: RoomParams, body: SendBody } }, async (request) =>
    ok(await sendToRoom(drf, request.params.id, request.body)),
  );

  app.get('/chat/messages/unseen/', { schema: { tags, querystring: UserQuery } }, async (request) =>
    ok(await unseenMessages(drf, request.query.user_id)),
  );

  app.get(
    '/chat/messages/:id/',
    { schema: { tags, params: RoomParams, querystring: UserQuery } },
    async (request) => ok(await roomMessages(drf, request.params.id, request.query.user_id)),
  );

  app.get('/chat/task_state/:taskId', { schema: { tags, params: TaskParams } }, async (request) =>
    taskState(drf, request.params.taskId),
  );
};
