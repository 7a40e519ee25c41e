import Type, { type Static } from 'typebox';

/** Why a moderator acted, as the moderation log keeps it. */
const Reason = Type.String({ minLength: 1, maxLength: 1000 });
const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Time = Type.String({ format: 'date-time' });

export const MuteBody = Type.Object(
  {
    until: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'when the mute ends (in the future); absent: until unmuted',
      }),
    ),
    reason: Type.Optional(Reason),
  },
  { additionalProperties: false },
);
export type MuteBody = Static<typeof MuteBody>;

export const BanBody = Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false });
export type BanBody = Static<typeof BanBody>;

export const MuteView = Type.Object(
  {
    chatId: Type.String(),
    userId: Type.String(),
    until: Nullable(Time),
    reason: Nullable(Type.String()),
    mutedBy: Type.String(),
    createdAt: Time,
  },
  {
    description: 'A member muted in a group: their messages are refused until `until` (null: until unmuted).',
  },
);
export type MuteView = Static<typeof MuteView>;

export const BanView = Type.Object(
  {
    chatId: Type.String(),
    userId: Type.String(),
    reason: Nullable(Type.String()),
    bannedBy: Type.String(),
    createdAt: Time,
  },
  { description: 'A user banned from a group: removed from it, and not added again until unbanned.' },
);
export type BanView = Static<typeof BanView>;

export const PageQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
export type PageQuery = Static<typeof PageQuery>;

export const LogEntryView = Type.Object(
  {
    id: Type.String(),
    chatId: Nullable(Type.String()),
    actorId: Type.String({ description: 'who acted' }),
    action: Type.String({
      description: '`mute`, `unmute`, `ban`, `unban`, `report`, `delete_message` or `dismiss_report`',
    }),
    targetUserId: Nullable(Type.String()),
    seq: Nullable(Type.Integer({ description: 'the message acted on or reported' })),
    reportId: Nullable(Type.String({ description: 'the report this action resolved, or made' })),
    reason: Nullable(Type.String()),
    until: Nullable(Time),
    at: Time,
  },
  { description: 'One moderation action: who did what to whom, when and why.' },
);
export type LogEntryView = Static<typeof LogEntryView>;

export const LogEntryParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const TenantLogQuery = Type.Object(
  {
    chatId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
export type TenantLogQuery = Static<typeof TenantLogQuery>;

export const ReportStatusSchema = Type.Union([Type.Literal('open'), Type.Literal('resolved')]);
export const ReportActionSchema = Type.Union([
  Type.Literal('delete_message'),
  Type.Literal('mute_author'),
  Type.Literal('ban_author'),
  Type.Literal('dismiss'),
]);

export const ReportIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const ReportBody = Type.Object({ reason: Reason }, { additionalProperties: false });
export type ReportBody = Static<typeof ReportBody>;

export const ReportView = Type.Object(
  {
    id: Type.String(),
    chatId: Type.String(),
    seq: Type.Integer(),
    reporterId: Type.String(),
    authorId: Type.String({ description: "the reported message's author" }),
    reason: Type.String(),
    text: Nullable(
      Type.String({
        description: "the reported message's text as it is now; null once the message is deleted",
      }),
    ),
    status: ReportStatusSchema,
    action: Nullable(ReportActionSchema),
    resolvedBy: Nullable(Type.String()),
    resolvedAt: Nullable(Time),
    createdAt: Time,
  },
  { description: 'A member’s report of a message; tenant administrators resolve it with an action.' },
);
export type ReportView = Static<typeof ReportView>;

export const ListReportsQuery = Type.Object(
  {
    status: Type.Optional(ReportStatusSchema),
    chatId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
export type ListReportsQuery = Static<typeof ListReportsQuery>;

export const ResolveReportBody = Type.Object(
  {
    action: ReportActionSchema,
    reason: Type.Optional(Reason),
    until: Type.Optional(
      Type.String({ format: 'date-time', description: 'mute_author only: when the mute ends' }),
    ),
  },
  { additionalProperties: false },
);
export type ResolveReportBody = Static<typeof ResolveReportBody>;
