import { actorOf } from '../auth/auth.hook.ts';
import { operation, secured, type Routes } from '../http/routes.ts';
import { ChatParams } from './chat.schema.ts';
import { ChatSettingsView, UpdateChatSettingsBody } from './settings.schema.ts';
import { changeSettings, getSettings } from './settings.service.ts';

export const settingsRoutes: Routes = async (app, { ctx }) => {
  app.get(
    '/chats/:id/settings',
    {
      schema: {
        tags: ['chats'],
        ...operation('getChatSettings', 'Your settings of a chat: mute, archive, hide', ['not_found']),
        ...secured,
        params: ChatParams,
        response: { 200: ChatSettingsView },
      },
    },
    (request) => getSettings(ctx, actorOf(request), request.params.id),
  );

  app.patch(
    '/chats/:id/settings',
    {
      schema: {
        tags: ['chats'],
        ...operation('updateChatSettings', 'Mute, archive or hide a chat for yourself', ['not_found']),
        ...secured,
        description:
          'Changes only the settings given. `muted: true` mutes until you unmute (or until `mutedUntil`, a future ' +
          'time); `muted: false` or `mutedUntil: null` unmutes. `hidden: true` hides the chat until its next ' +
          'message. Told to your own streams as `settings.updated`.',
        params: ChatParams,
        body: UpdateChatSettingsBody,
        response: { 200: ChatSettingsView },
      },
    },
    (request) => changeSettings(ctx, actorOf(request), request.params.id, request.body),
  );
};
