import Type from 'typebox';
import { eventsOf, type PayloadsOf } from '../events.ts';
import { ChatSettingsView } from './settings.schema.ts';

/** A member's own chat settings: told to that member's streams only, so that their other devices follow. */
export const SettingsEvents = {
  'settings.updated': Type.Object(
    { chatId: Type.String(), settings: ChatSettingsView },
    {
      description:
        'You changed your settings of a chat (mute, archive, hide): to your own streams only, every device. Not ' +
        'replayed on a resume: chat views carry the settings.',
    },
  ),
};
export type SettingsEvents = PayloadsOf<typeof SettingsEvents>;

export const settingsEvent = eventsOf<SettingsEvents>();
