import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { OutageReporter } from '../../errors/database.ts';
import { shapeErrors } from '../dialect.errors.ts';
import type { TenantDialect } from '../dialect.tenant.ts';
import { ok } from './drf.mapping.ts';
import { roomMessages, unseenMessages } from './drf.history.operations.ts';
import { sendDirect, sendToRoom, taskState } from './drf.message.operations.ts';
import { createRoom, joinRoom, leaveRoom, listRooms, showRoom } from './drf.room.operations.ts';
import { notFound } from '../../errors/codes.ts';
import { bodyProblem } from './drf.body.ts';
import { OptionalUserQuery, ReceiverParams, RoomParams, TaskParams, UserQuery } from './drf.schema.ts';

const tags = ['drf'];

/** DRF's chat views: rooms, sends, seen state; errors `{"status": <int>, "msg": "<text>"}` with that status. */
export const drfChatRoutes: FastifyPluginAsyncTypebox<{
  drf: TenantDialect;
  outages?: OutageReporter | undefined;
}> = async (app, { drf, outages }) => {
  shapeErrors(app, { exposeStack: false, outages }, ({ status, body }, error, request) => {
    const msg = bodyProblem(error, request) ?? body.error.message;
    return { status, body: { status, msg } };
  });

  app.get('/chat/chatroom/', { schema: { tags, querystring: OptionalUserQuery } }, async (request) =>
    ok(await listRooms(drf, request.query.user_id || undefined)),
  );

  app.post('/chat/chatroom/', { schema: { tags } }, async (request) =>
    ok(await createRoom(drf, request.body)),
  );

  app.get(
    '/chat/chatroom/:id/',
    { schema: { tags, params: RoomParams, querystring: OptionalUserQuery } },
    async (request) => ok(await showRoom(drf, request.params.id, request.query.user_id || undefined)),
  );

  app.put(
    '/chat/chatroom/:id/',
    { schema: { tags, params: RoomParams, querystring: UserQuery } },
    async (request) => {
      await joinRoom(drf, request.params.id, request.query.user_id);
      return { status: 200, message: 'HTTP_200_OK' };
    },
  );

  // The original answers `{"status": 204, "message": "HTTP_204_NO_CONTENT"}`, but a 204 carries no body in HTTP.
  app.delete(
    '/chat/chatroom/:id/',
    { schema: { tags, params: RoomParams, querystring: UserQuery } },
    async (request, reply) => {
      await leaveRoom(drf, request.params.id, request.query.user_id);
      return reply.status(204).send();
    },
  );

  app.post('/chat/user/:receiver/', { schema: { tags, params: ReceiverParams } }, async (request) =>
    ok(await sendDirect(drf, request.params.receiver, request.body)),
  );

  app.post('/chat/group/:id/', { schema: { tags, params: RoomParams } }, async (request) => {
    await requireRoomNumber(request.params.id);
    return ok(await sendToRoom(drf, request.params.id, request.body));
  });

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

/** The original's URL takes only a whole number there (`<int:group_id>`): anything else is no such page, a 404. */
async function requireRoomNumber(id: string): Promise<void> {
  if (!/^[0-9]{1,15}$/.test(id)) {
    throw notFound(`chatroom ${id} not found`);
  }
}
