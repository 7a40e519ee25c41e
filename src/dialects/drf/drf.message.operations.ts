import { createChat, findTenantChat } from '../../chats/chat.service.ts';
import { AppError, notFound } from '../../errors/codes.ts';
import { findSendFailure, recordSendFailure } from '../../messages/failure.service.ts';
import type { UserView } from '../../users/user.schema.ts';
import { getUsers } from '../../users/user.service.ts';
import { findTenantMessageById, sendMessage } from '../../messages/message.service.ts';
import { checkedAfter, refused } from '../dialect.errors.ts';
import type { TenantDialect } from '../dialect.tenant.ts';
import { pythonRepr, toDrfMessage, toRoom, userActor } from './drf.mapping.ts';
import { membersIfMember, requireAttributes, roomIdByNumber } from './drf.room.operations.ts';
import { usernames } from './drf.user.operations.ts';

/** Why a send task failed, in the words of the original (a Python exception's qualified type and message). */
class TaskFailure extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const NO_USER = () =>
  new TaskFailure('django.contrib.auth.models.User.DoesNotExist', 'User matching query does not exist.');

/** The user a send names by id (`from`, the receiver), as the original's task looks them up. */
async function taskUser(drf: TenantDialect, id: unknown): Promise<UserView> {
  const key =
    typeof id === 'number' && Number.isInteger(id) ? String(id) : typeof id === 'string' ? id.trim() : null;
  if (key === null || key === '' || key.length > 128) {
    throw new TaskFailure('ValueError', `Field 'id' expected a number but got ${pythonRepr(id)}.`);
  }
  const [user] = await getUsers(drf.ctx, drf.admin, [key]);
  if (!user) {
    throw /^\d+$/.test(key)
      ? NO_USER()
      : new TaskFailure('ValueError', `Field 'id' expected a number but got ${pythonRepr(id)}.`);
  }
  return user;
}

/** A message's text as the original's `TextField` takes it: text, or a number's digits. */
function taskText(text: unknown): string {
  if (typeof text === 'string') {
    if (text.trim() === '') {
      // Checked before a direct room is opened for it.
      throw new TaskFailure('django.core.exceptions.ValidationError', "['text: must not be blank']");
    }
    return text;
  }
  if (typeof text === 'number') {
    return String(text);
  }
  throw new TaskFailure(
    'django.core.exceptions.ValidationError',
    `['text: must be a text, got ${pythonRepr(text)}']`,
  );
}

/**
 * Runs a send as the original's Celery task would, and answers its task id: the message's id when it is stored, else
 * the id of the failure recorded for the task-state endpoint. Parley refusing the send (a blank text, a limit) is a
 * failure too; only an unexpected error (the database gone) is the request's error.
 */
async function runSendTask(drf: TenantDialect, send: () => Promise<string>): Promise<string> {
  try {
    return await send();
  } catch (error) {
    const failure =
      error instanceof TaskFailure
        ? error
        : error instanceof AppError && error.status < 500
          ? new TaskFailure('django.core.exceptions.ValidationError', `[${pythonRepr(error.message)}]`)
          : null;
    if (!failure) {
      throw error;
    }
    const taskId = await recordSendFailure(drf.ctx, drf.tenantId, {
      errorType: failure.type,
      errorMessage: failure.message,
    });
    drf.ctx.log.info({ taskId, failure: failure.type, reason: failure.message }, 'drf: send task failed');
    return taskId;
  }
}

/** `POST /chat/user/<receiver>/`: a message in the direct chat of the two (opened if need be); the task id. */
export async function sendDirect(drf: TenantDialect, receiverId: string, body: unknown): Promise<string> {
  const fields = requireAttributes(body, 'from', 'text');
  return runSendTask(drf, async () => {
    const sender = await taskUser(drf, fields.from);
    const receiver = await taskUser(drf, receiverId);
    const text = taskText(fields.text);
    if (sender.id === receiver.id) {
      throw new TaskFailure(
        'django.core.exceptions.ValidationError',
        "['from: cannot send a direct message to yourself']",
      );
    }
    const actor = userActor(drf.tenantId, sender.id);
    const { chat: room } = await createChat(drf.ctx, actor, { kind: 'direct', members: [receiver.id] });
    return (await sendMessage(drf.ctx, actor, room.id, { text })).message.id;
  });
}

/** A user id as the original's task takes it (`from`, the receiver), or null when it would refuse it unread. */
function taskUserKey(id: unknown): string | null {
  const key =
    typeof id === 'number' && Number.isInteger(id) ? String(id) : typeof id === 'string' ? id.trim() : null;
  return key === null || key === '' || key.length > 128 ? null : key;
}

/** The checks the original's task makes before a room send, in its order: the sender, the room, the text. */
async function roomSendChecks(drf: TenantDialect, roomId: string, fields: Record<string, unknown>) {
  const sender = await taskUser(drf, fields.from);
  const room = await findTenantChat(drf.ctx, drf.tenantId, { number: Number(roomId) });
  if (!room) {
    throw new TaskFailure('chat.models.ChatRoom.DoesNotExist', 'ChatRoom matching query does not exist.');
  }
  return { sender, room, text: taskText(fields.text) };
}

/** The room exists and the sender too (checked): "not found" from the send means that the sender is not in it. */
function notInRoom(error: unknown): unknown {
  return refused(error, 'not_found')
    ? new TaskFailure('django.core.exceptions.PermissionDenied', "User doesn't belong to chatroom")
    : error;
}

/**
 * `POST /chat/group/<id>/`: a message in the room, from one of its members; the task id. The send goes first, to the
 * room remembered by its number: it checks the room, the membership and the text, and only a refusal runs the
 * original's checks, which name the failure as they would have first.
 */
export async function sendToRoom(drf: TenantDialect, roomId: string, body: unknown): Promise<string> {
  const fields = requireAttributes(body, 'from', 'text');
  return runSendTask(drf, async () => {
    const key = taskUserKey(fields.from);
    const text =
      typeof fields.text === 'string'
        ? fields.text
        : typeof fields.text === 'number'
          ? String(fields.text)
          : null;
    const chatId = key === null || text === null ? null : await roomIdByNumber(drf, roomId);
    if (key !== null && text !== null && chatId !== null) {
      return checkedAfter(
        async () => (await sendMessage(drf.ctx, userActor(drf.tenantId, key), chatId, { text })).message.id,
        async (refusal) => {
          await roomSendChecks(drf, roomId, fields);
          throw notInRoom(refusal);
        },
      );
    }
    const { sender, room, text: checked } = await roomSendChecks(drf, roomId, fields);
    try {
      return (await sendMessage(drf.ctx, userActor(drf.tenantId, sender.id), room.id, { text: checked }))
        .message.id;
    } catch (error) {
      throw notInRoom(error);
    }
  });
}

/**
 * `GET /chat/task_state/<id>`. A send's task id is the stored message's id (a UUIDv7 with 74 random bits): the task
 * is `SUCCESS` with the message (the original's `MessageSerializer`). A failed send's id names its recorded failure
 * (kept a day): `FAILURE` with the original's text for it. Any other id is a 404.
 */
export async function taskState(drf: TenantDialect, taskId: string) {
  const message = await findTenantMessageById(drf.ctx, drf.tenantId, taskId);
  const room = message ? await findTenantChat(drf.ctx, drf.tenantId, { id: message.chatId }) : null;
  if (message && room) {
    const members = (await membersIfMember(drf, userActor(drf.tenantId, message.authorId), room)) ?? [];
    const names = await usernames(drf, [message.authorId]);
    const { id, msg_from, text, sent_at } = toDrfMessage(
      room,
      message,
      members,
      names.get(message.authorId) ?? '',
    );
    return { state: 'SUCCESS', result: { id, room: toRoom(room, members), msg_from, text, sent_at } };
  }
  const failure = await findSendFailure(drf.ctx, drf.tenantId, taskId);
  if (!failure) {
    throw notFound(`task ${taskId} not found`);
  }
  return {
    state: 'FAILURE',
    result: pythonRepr([
      'Traceback (most recent call last):',
      `${failure.errorType}: ${failure.errorMessage}`,
      '',
    ]),
  };
}
