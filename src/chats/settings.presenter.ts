import type { SettingsColumns } from '../db/sql/settings.ts';
import type { ChatSettingsView } from './settings.schema.ts';

export function presentSettings(row: SettingsColumns): ChatSettingsView {
  return {
    muted: row.s_muted,
    mutedUntil: row.s_muted_until ? row.s_muted_until.toISOString() : null,
    archived: row.s_archived,
    hidden: row.s_hidden,
  };
}

/** Settings of someone who set none, or of no member at all. */
export const DEFAULT_SETTINGS: ChatSettingsView = {
  muted: false,
  mutedUntil: null,
  archived: false,
  hidden: false,
};
