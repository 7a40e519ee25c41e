import Type, { type Static } from 'typebox';

const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Time = Type.String({ format: 'date-time' });

/** The events a subscription may ask for (docs/webhooks.md, "Events"). */
export const WEBHOOK_EVENT_TYPES = [
  'message.created',
  'message.updated',
  'message.deleted',
  'message.pinned',
  'message.unpinned',
  'reaction.added',
  'reaction.removed',
  'member.added',
  'member.removed',
  'chat.created',
  'report.created',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'https:// (http:// on this machine)' });
const Secret = Type.String({
  minLength: 16,
  maxLength: 200,
  description: 'The HMAC-SHA256 key of the signatures; absent on creation: one is generated',
});
const EventTypes = Nullable(
  Type.Array(Type.Union(WEBHOOK_EVENT_TYPES.map((type) => Type.Literal(type))), {
    minItems: 1,
    maxItems: WEBHOOK_EVENT_TYPES.length,
    uniqueItems: true,
    description: 'The event types delivered; null: all of them',
  }),
);
const Description = Nullable(Type.String({ maxLength: 500 }));

export const CreateWebhookBody = Type.Object(
  {
    url: Url,
    secret: Type.Optional(Secret),
    eventTypes: Type.Optional(EventTypes),
    enabled: Type.Optional(Type.Boolean()),
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(Url),
    secret: Type.Optional(Secret),
    eventTypes: Type.Optional(EventTypes),
    enabled: Type.Optional(Type.Boolean()),
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);
export type UpdateWebhookBody = Static<typeof UpdateWebhookBody>;

export const WebhookView = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    eventTypes: Nullable(Type.Array(Type.String())),
    enabled: Type.Boolean(),
    description: Nullable(Type.String()),
    secretHint: Type.String({ description: 'The last four characters of the secret' }),
    secret: Type.Optional(
      Type.String({ description: 'The whole secret: only in the answer that created or replaced it' }),
    ),
    createdBy: Type.String(),
    createdAt: Time,
    updatedAt: Time,
  },
  { description: 'A webhook subscription of the tenant.' },
);
export type WebhookView = Static<typeof WebhookView>;

export const WebhookIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
export type WebhookIdParams = Static<typeof WebhookIdParams>;

export const DeliveryParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100 }),
  deliveryId: Type.String({ pattern: '^[0-9]{1,18}$' }),
});
export type DeliveryParams = Static<typeof DeliveryParams>;

const Status = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]);

export const ListWebhooksQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
export type ListWebhooksQuery = Static<typeof ListWebhooksQuery>;

export const ListDeliveriesQuery = Type.Object(
  {
    status: Type.Optional(Status),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
export type ListDeliveriesQuery = Static<typeof ListDeliveriesQuery>;

export const DeliveryView = Type.Object(
  {
    id: Type.String(),
    webhookId: Type.String({ description: 'The subscription it is for' }),
    eventType: Type.String({ description: 'The event: `message.created`, `member.added`, …' }),
    chatId: Nullable(Type.String()),
    status: Status,
    attempts: Type.Integer(),
    nextAttemptAt: Nullable(Time),
    lastStatus: Nullable(
      Type.Integer({ description: 'The HTTP status of the last attempt; null: no answer' }),
    ),
    lastError: Nullable(Type.String()),
    redeliveryOf: Nullable(Type.String()),
    createdAt: Time,
    deliveredAt: Nullable(Time),
  },
  { description: 'One event for one subscription, and what became of it (the delivery log).' },
);
export type DeliveryView = Static<typeof DeliveryView>;
