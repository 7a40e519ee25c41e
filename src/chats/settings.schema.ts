import Type, { type Static } from 'typebox';

const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const ChatSettingsView = Type.Object(
  {
    muted: Type.Boolean({
      description: 'Notifications of the chat are muted now (mentions still reach you).',
    }),
    mutedUntil: Nullable(
      Type.String({
        format: 'date-time',
        description: 'When the mute ends; null when not muted, or muted until you unmute.',
      }),
    ),
    archived: Type.Boolean({
      description: 'Archived: left out of the chat list and the unread total until unarchived.',
    }),
    hidden: Type.Boolean({
      description: 'Hidden (closed): left out of the chat list until its next message, which shows it again.',
    }),
  },
  { description: 'The caller’s own settings of a chat; nobody else sees them.' },
);
export type ChatSettingsView = Static<typeof ChatSettingsView>;

export const UpdateChatSettingsBody = Type.Object(
  {
    muted: Type.Optional(
      Type.Boolean({
        description: '`true` mutes until `mutedUntil`, or until you unmute without it; `false` unmutes.',
      }),
    ),
    mutedUntil: Type.Optional(
      Nullable(
        Type.String({ format: 'date-time', description: 'A future time the mute ends; null unmutes.' }),
      ),
    ),
    archived: Type.Optional(Type.Boolean()),
    hidden: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateChatSettingsBody = Static<typeof UpdateChatSettingsBody>;
