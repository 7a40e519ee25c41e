import type { Generated, Selectable } from 'kysely';

/** A tenant's webhook target (migration 0024). */
export interface WebhookSubscriptionTable {
  id: string;
  tenant_id: string;
  url: string;
  secret: string;
  /** Null: every event type. */
  event_types: string[] | null;
  enabled: Generated<boolean>;
  description: string | null;
  created_by: string;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type WebhookSubscriptionRow = Selectable<WebhookSubscriptionTable>;

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

/**
 * One event for one subscription (migration 0024): written by the triggers in the transaction of its change, sent
 * in id order per subscription and chat (`chat_id`, '' for none), and kept as the delivery log.
 */
export interface WebhookOutboxTable {
  id: Generated<number>;
  subscription_id: string;
  tenant_id: string;
  chat_id: string;
  type: string;
  payload: unknown;
  status: Generated<DeliveryStatus>;
  attempts: Generated<number>;
  next_at: Generated<Date>;
  lease_until: Date | null;
  last_status: number | null;
  last_error: string | null;
  redelivery_of: number | null;
  created_at: Generated<Date>;
  delivered_at: Date | null;
}

export type WebhookOutboxRow = Selectable<WebhookOutboxTable>;
