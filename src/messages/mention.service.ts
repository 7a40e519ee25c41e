import type { Context } from '../context.ts';
import { mentionEvent } from './mention.events.ts';
import { mentionsOf, type ResolvedMentions } from './mention.repository.ts';
import type { MessageView } from './message.schema.ts';

/**
 * Tells the members a message mentions, once it is committed: each member named or reached by `@here` on their own
 * stream, everyone in the chat for `@all`. `except` leaves out members already told (an edit's earlier mentions).
 */
export function publishMentions(
  ctx: Context,
  tenantId: string,
  message: MessageView,
  mentions: ResolvedMentions,
  except: { users: string[]; all: boolean } = { users: [], all: false },
): void {
  const { chatId } = message;
  const told = new Set(except.users);
  if (mentions.all && !except.all) {
    ctx.events.publish(
      mentionEvent('mention.created', tenantId, { chatId }, { chatId, message, via: 'all' }),
    );
  }
  for (const [users, via] of [
    [mentions.users, 'name'],
    [mentions.hereUsers, 'here'],
  ] as const) {
    for (const userId of users) {
      if (!told.has(userId)) {
        ctx.events.publish(mentionEvent('mention.created', tenantId, { userId }, { chatId, message, via }));
      }
    }
  }
}

/** Views of messages of one chat with their stored mentions. */
export async function withMentions(
  ctx: Context,
  chatId: string,
  views: MessageView[],
): Promise<MessageView[]> {
  if (views.length === 0) {
    return views;
  }
  const found = await mentionsOf(
    ctx.db,
    chatId,
    views.filter((view) => !view.deletedAt).map((view) => view.seq),
  );
  return views.map((view) => {
    const mentions = view.deletedAt ? undefined : found.get(view.seq);
    return {
      ...view,
      mentions: mentions ? [...mentions.users] : [],
      mentionsAll: mentions?.all ?? false,
      mentionsHere: mentions?.here ?? false,
    };
  });
}
