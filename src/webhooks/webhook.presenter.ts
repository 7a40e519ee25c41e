import type { DeliveryView, WebhookView } from './webhook.schema.ts';
import type { WebhookOutboxRow, WebhookSubscriptionRow } from './webhook.table.ts';

export function presentWebhook(row: WebhookSubscriptionRow, showSecret = false): WebhookView {
  const view: WebhookView = {
    id: row.id,
    url: row.url,
    eventTypes: row.event_types,
    enabled: row.enabled,
    description: row.description,
    secretHint: row.secret.slice(-4),
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
  if (showSecret) {
    view.secret = row.secret;
  }
  return view;
}

export function presentDelivery(row: WebhookOutboxRow): DeliveryView {
  return {
    id: String(row.id),
    webhookId: row.subscription_id,
    eventType: row.type,
    chatId: row.chat_id === '' ? null : row.chat_id,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? row.next_at.toISOString() : null,
    lastStatus: row.last_status,
    lastError: row.last_error,
    redeliveryOf: row.redelivery_of === null ? null : String(row.redelivery_of),
    createdAt: row.created_at.toISOString(),
    deliveredAt: row.delivered_at ? row.delivered_at.toISOString() : null,
  };
}
