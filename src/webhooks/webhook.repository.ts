import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { WebhookSubscriptionRow } from './webhook.table.ts';

/** A tenant's webhook subscriptions (migration 0024). Every read and write names the tenant. */

export async function insertSubscription(
  db: Db,
  row: {
    id: string;
    tenantId: string;
    url: string;
    secret: string;
    eventTypes: string[] | null;
    enabled: boolean;
    description: string | null;
    createdBy: string;
    limit: number;
  },
): Promise<WebhookSubscriptionRow | undefined> {
  // The count and the insert in one statement, under the tenant's advisory lock: two creations at once never pass
  // the limit together.
  await sql`select pg_advisory_xact_lock(hashtext('webhooks:' || ${row.tenantId}))`.execute(db);
  const result = await sql<WebhookSubscriptionRow>`
    insert into webhook_subscriptions (id, tenant_id, url, secret, event_types, enabled, description, created_by)
    select ${row.id}, ${row.tenantId}, ${row.url}, ${row.secret}, ${row.eventTypes}, ${row.enabled},
           ${row.description}, ${row.createdBy}
    where (select count(*) from webhook_subscriptions where tenant_id = ${row.tenantId}) < ${row.limit}
    returning *`.execute(db);
  return result.rows[0];
}

export async function findSubscription(
  db: Db,
  tenantId: string,
  id: string,
): Promise<WebhookSubscriptionRow | undefined> {
  return db
    .selectFrom('webhook_subscriptions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function listSubscriptions(
  db: Db,
  tenantId: string,
  page: { after?: [string, string]; limit: number },
): Promise<WebhookSubscriptionRow[]> {
  let query = db.selectFrom('webhook_subscriptions').selectAll().where('tenant_id', '=', tenantId);
  if (page.after) {
    const at = new Date(page.after[0]);
    const id = page.after[1];
    query = query.where((eb) =>
      eb.or([eb('created_at', '>', at), eb.and([eb('created_at', '=', at), eb('id', '>', id)])]),
    );
  }
  return query.orderBy('created_at').orderBy('id').limit(page.limit).execute();
}

export async function updateSubscription(
  db: Db,
  tenantId: string,
  id: string,
  set: {
    url?: string;
    secret?: string;
    event_types?: string[] | null;
    enabled?: boolean;
    description?: string | null;
  },
): Promise<WebhookSubscriptionRow | undefined> {
  return db
    .updateTable('webhook_subscriptions')
    .set({ ...set, updated_at: sql<Date>`date_trunc('milliseconds', now())` })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteSubscription(db: Db, tenantId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('webhook_subscriptions')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The tenants with an enabled subscription: the worker wakes up for their events only. */
export async function tenantsWithWebhooks(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('webhook_subscriptions')
    .select('tenant_id')
    .distinct()
    .where('enabled', '=', true)
    .execute();
  return rows.map((row) => row.tenant_id);
}
