import Type from 'typebox';
import { eventsOf, type PayloadsOf } from '../events.ts';
import { ReportActionSchema } from './moderation.schema.ts';

const Time = Type.String({ format: 'date-time' });

/** The moderation feature's events (docs/moderation.md); each is published once its transaction commits. */
export const ModerationEvents = {
  'member.muted': Type.Object(
    { chatId: Type.String(), userId: Type.String(), until: Type.Union([Time, Type.Null()]) },
    {
      description:
        'A member was muted (or muted again with a new end): to the chat’s members, the muted one included, who ' +
        'cannot send into it until `until` (null: until unmuted).',
    },
  ),
  'member.unmuted': Type.Object(
    { chatId: Type.String(), userId: Type.String() },
    { description: 'A member’s mute was lifted by a moderator: to the chat’s members.' },
  ),
  'member.banned': Type.Object(
    { chatId: Type.String(), userId: Type.String() },
    {
      description:
        'A user was banned from a group: to its members, the banned one included when they were in it (they are ' +
        'removed at once: `member.removed` follows), and they cannot be added again until unbanned.',
    },
  ),
  'member.unbanned': Type.Object(
    { chatId: Type.String(), userId: Type.String() },
    { description: 'A ban was lifted: to the chat’s members, and to the user, who may be added again.' },
  ),
  'report.resolved': Type.Object(
    {
      reportId: Type.String(),
      chatId: Type.String(),
      seq: Type.Integer(),
      action: ReportActionSchema,
    },
    {
      description: 'A tenant administrator acted on your report of a message: to the member who reported it.',
    },
  ),
};
export type ModerationEvents = PayloadsOf<typeof ModerationEvents>;

export const moderationEvent = eventsOf<ModerationEvents>();
