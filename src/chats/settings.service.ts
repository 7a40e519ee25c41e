import type { Actor } from '../auth/actor.ts';
import type { Context } from '../context.ts';
import { invalid } from '../errors/codes.ts';
import { chatNotFound, requireMember } from './chat.access.ts';
import { settingsEvent } from './settings.events.ts';
import { presentSettings } from './settings.presenter.ts';
import { findSettings, updateSettings, type SettingsChange } from './settings.repository.ts';
import type { ChatSettingsView, UpdateChatSettingsBody } from './settings.schema.ts';

/**
 * A member's own settings of a chat: mute (until a time, or until unmuted), archive, hide. Nobody else sees them;
 * the chat list and the unread summary honour them.
 */

export async function getSettings(ctx: Context, actor: Actor, chatId: string): Promise<ChatSettingsView> {
  const row = await findSettings(ctx.db, actor.tenantId, chatId, actor.userId);
  if (!row) {
    throw chatNotFound(chatId);
  }
  return presentSettings(row);
}

/** The mute a body asks for: undefined when it says nothing of muting. */
function muteOf(body: UpdateChatSettingsBody, now: number): SettingsChange['mutedUntil'] {
  const { muted, mutedUntil } = body;
  if (muted === false && typeof mutedUntil === 'string') {
    throw invalid('mutedUntil: cannot be given with muted: false');
  }
  if (typeof mutedUntil === 'string') {
    const until = new Date(mutedUntil);
    if (Number.isNaN(until.getTime())) {
      throw invalid('mutedUntil: must be a date-time');
    }
    if (until.getTime() <= now) {
      throw invalid('mutedUntil: must be in the future');
    }
    return until;
  }
  if (muted === false || (mutedUntil === null && muted !== true)) {
    return null;
  }
  if (muted === true) {
    return 'infinity';
  }
  return undefined;
}

export async function changeSettings(
  ctx: Context,
  actor: Actor,
  chatId: string,
  body: UpdateChatSettingsBody,
): Promise<ChatSettingsView> {
  const mutedUntil = muteOf(body, Date.now());
  await requireMember(ctx.db, actor, chatId);
  const change: SettingsChange = {
    ...(mutedUntil !== undefined ? { mutedUntil } : {}),
    ...(body.archived !== undefined ? { archived: body.archived } : {}),
    ...(body.hidden !== undefined ? { hidden: body.hidden } : {}),
  };
  const row = await updateSettings(ctx.db, actor.tenantId, chatId, actor.userId, change);
  if (!row) {
    throw chatNotFound(chatId);
  }
  const settings = presentSettings(row);
  ctx.events.publish(
    settingsEvent('settings.updated', actor.tenantId, { userId: actor.userId }, { chatId, settings }),
  );
  return settings;
}
