import type { Actor } from '../../auth/actor.ts';
import type { Context } from '../../context.ts';
import { invalid, notFound } from '../../errors/codes.ts';
import { getMessageInContext } from '../../messages/filter.service.ts';
import type { RecipientView } from '../../recipients/recipient.presenter.ts';
import {
  clearRecipient,
  countRecipients,
  findRecipients,
  getRecipient,
  updateRecipient,
  type RecipientChanges,
  type RecipientCondition,
} from '../../recipients/recipient.service.ts';
import type { RecipientFilterField } from '../../recipients/recipient.table.ts';
import { ifNotFound } from '../dialect.errors.ts';
import {
  created,
  parseRecipientId,
  RECIPIENT_MODEL,
  toMessage,
  toRecipient,
  type SourceLoopRecipient,
} from './sourceloop.mapping.ts';
import { eachOwn, type ResourceOperations } from './sourceloop.operations.ts';
import type {
  MessageRecipientPartial,
  NewMessageRecipient,
  NewMessageRecipientInMessage,
} from './sourceloop.schema.ts';

/** Applies what differs from the current state (a sender may repeat the defaults for another member). */
async function apply(ctx: Context, actor: Actor, current: RecipientView, body: MessageRecipientPartial) {
  const changes: RecipientChanges = {};
  for (const flag of ['isRead', 'isFavorite', 'isForwarded'] as const) {
    if (body[flag] !== undefined && body[flag] !== current[flag]) {
      changes[flag] = body[flag];
    }
  }
  if (body.forwardedBy !== undefined && body.forwardedBy !== current.forwardedBy) {
    changes.forwardedBy = body.forwardedBy;
  }
  return Object.keys(changes).length === 0 ? current : updateRecipient(ctx, actor, current, changes);
}

/**
 * SourceLoop's message recipients on Parley's per-member state: a message's recipients are the members of its chat
 * other than its author; `isRead` is the member's read cursor, the flags are stored per member and message. Only
 * the recipient changes its own state; deleting one clears its flags (the read cursor stays).
 */
export const recipients: ResourceOperations<
  RecipientFilterField,
  RecipientView,
  SourceLoopRecipient,
  MessageRecipientPartial
> = {
  model: RECIPIENT_MODEL,
  show: toRecipient,
  fixed: ['id', 'channelId', 'recipientId', 'messageId'],
  own: (actor) => ({ field: 'recipientId', op: '=', value: actor.userId }),
  find: findRecipients,
  count: countRecipients,
  get: async (ctx, actor, id) => {
    const key = parseRecipientId(id);
    if (!key) {
      throw notFound(`message recipient ${id} not found`);
    }
    return getRecipient(ctx, actor, key.messageId, key.userId);
  },
  update: apply,
  remove: clearRecipient,
};

/** `POST /message-recipients`: the row of a member of the message's channel (one exists for each but the author). */
export async function createRecipient(ctx: Context, actor: Actor, body: NewMessageRecipient) {
  const { message } = await getMessageInContext(ctx, actor, body.messageId);
  if (body.channelId !== message.chatId) {
    throw invalid('channelId: must be the channel of the message');
  }
  const current = await ifNotFound(getRecipient(ctx, actor, body.messageId, body.recipientId), () =>
    invalid('recipientId: must be a member of the channel other than the author'),
  );
  return created(toRecipient(await apply(ctx, actor, current, body)));
}

/** `POST /messages/{id}/message-recipients`: the message comes from the path. */
export async function createRecipientOf(
  ctx: Context,
  actor: Actor,
  messageId: string,
  body: NewMessageRecipientInMessage,
) {
  if (body.messageId !== undefined && body.messageId !== messageId) {
    throw invalid('messageId: must be the message in the path');
  }
  return createRecipient(ctx, actor, { ...body, messageId });
}

/** The recipients of the message `id` names (a 404 when the caller cannot see it). */
export async function recipientsOf(ctx: Context, actor: Actor, id: string): Promise<RecipientCondition> {
  const { message } = await getMessageInContext(ctx, actor, id);
  return { field: 'messageId', op: '=', value: message.id };
}

/** `DELETE` with `where`: clears the flags of the caller's own matching rows; their count. */
export function clearWhere(ctx: Context, actor: Actor, where: RecipientCondition | null) {
  return eachOwn(ctx, recipients, actor, where, (current) => clearRecipient(ctx, actor, current));
}

/** `GET /message-recipients/{id}/message`: the recipient's message. */
export async function messageOf(ctx: Context, actor: Actor, id: string) {
  const recipient = await recipients.get(ctx, actor, id);
  return toMessage(await getMessageInContext(ctx, actor, recipient.messageId));
}
