import { isIP } from 'node:net';
import type { Actor } from '../auth/actor.ts';
import type { Context, WebhookSettings } from '../context.ts';
import { invalid, limitExceeded, notFound } from '../errors/codes.ts';
import { newId } from '../ids.ts';
import { requireTenantAdmin } from '../moderation/moderation.service.ts';
import { DEFAULT_LIMIT, decodeCursor, pageOf, type Page } from '../pagination.ts';
import { findDelivery, listDeliveries as listDeliveryRows, redeliver } from './outbox.repository.ts';
import { presentDelivery, presentWebhook } from './webhook.presenter.ts';
import type {
  CreateWebhookBody,
  DeliveryView,
  ListDeliveriesQuery,
  ListWebhooksQuery,
  UpdateWebhookBody,
  WebhookView,
} from './webhook.schema.ts';
import {
  deleteSubscription,
  findSubscription,
  insertSubscription,
  listSubscriptions,
  updateSubscription,
} from './webhook.repository.ts';
import { newSecret } from './webhook.signature.ts';
import type { WebhookSubscriptionRow } from './webhook.table.ts';

/**
 * Webhook subscriptions of a tenant (docs/webhooks.md): managed by its administrators only; another tenant's are
 * never seen (404). The secret is shown whole once, in the answer that creates or replaces it.
 */

const DEFAULTS: WebhookSettings = { perTenant: 10, allowHttp: false, changed: () => undefined };

const settings = (ctx: Context): WebhookSettings => ctx.webhooks ?? DEFAULTS;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** An absolute http(s) URL without credentials; plain http only to this machine unless allowed. */
export function checkTargetUrl(raw: string, allowHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('url: must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalid('url: must be an https:// URL');
  }
  if (url.username !== '' || url.password !== '') {
    throw invalid('url: must not carry credentials (the signature authenticates deliveries)');
  }
  if (url.hash !== '') {
    throw invalid('url: must not have a fragment');
  }
  const host = url.hostname.toLowerCase();
  if (
    url.protocol === 'http:' &&
    !allowHttp &&
    !LOOPBACK.has(host) &&
    !(isIP(host) === 4 && host.startsWith('127.'))
  ) {
    throw invalid(
      'url: must be https:// (plain http:// only to this machine, or with PARLEY_WEBHOOK_ALLOW_HTTP)',
    );
  }
  return url.toString();
}

async function requireSubscription(ctx: Context, actor: Actor, id: string): Promise<WebhookSubscriptionRow> {
  const row = await findSubscription(ctx.db, actor.tenantId, id);
  if (!row) {
    throw notFound(`webhook ${id} not found`);
  }
  return row;
}

export async function createWebhook(
  ctx: Context,
  actor: Actor,
  body: CreateWebhookBody,
): Promise<WebhookView> {
  requireTenantAdmin(actor);
  const { perTenant, allowHttp } = settings(ctx);
  const url = checkTargetUrl(body.url, allowHttp);
  const row = await ctx.db.transaction().execute((trx) =>
    insertSubscription(trx, {
      id: newId(),
      tenantId: actor.tenantId,
      url,
      secret: body.secret ?? newSecret(),
      eventTypes: body.eventTypes ?? null,
      enabled: body.enabled ?? true,
      description: body.description ?? null,
      createdBy: actor.userId,
      limit: perTenant,
    }),
  );
  if (!row) {
    throw limitExceeded('webhooks_per_tenant', perTenant, `a tenant may have at most ${perTenant} webhooks`);
  }
  settings(ctx).changed();
  return presentWebhook(row, true);
}

export async function listWebhooks(
  ctx: Context,
  actor: Actor,
  query: ListWebhooksQuery,
): Promise<Page<WebhookView>> {
  requireTenantAdmin(actor);
  const limit = query.limit ?? DEFAULT_LIMIT;
  const after = query.cursor
    ? (decodeCursor(query.cursor, ['time', 'string']) as [string, string])
    : undefined;
  const rows = await listSubscriptions(ctx.db, actor.tenantId, {
    ...(after ? { after } : {}),
    limit: limit + 1,
  });
  return pageOf(
    rows,
    limit,
    (row) => presentWebhook(row),
    (row) => [row.created_at.toISOString(), row.id],
  );
}

export async function getWebhook(ctx: Context, actor: Actor, id: string): Promise<WebhookView> {
  requireTenantAdmin(actor);
  return presentWebhook(await requireSubscription(ctx, actor, id));
}

export async function updateWebhook(
  ctx: Context,
  actor: Actor,
  id: string,
  body: UpdateWebhookBody,
): Promise<WebhookView> {
  requireTenantAdmin(actor);
  const set = {
    ...(body.url !== undefined ? { url: checkTargetUrl(body.url, settings(ctx).allowHttp) } : {}),
    ...(body.secret !== undefined ? { secret: body.secret } : {}),
    ...(body.eventTypes !== undefined ? { event_types: body.eventTypes } : {}),
    ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
    ...(body.description !== undefined ? { description: body.description } : {}),
  };
  const row = await updateSubscription(ctx.db, actor.tenantId, id, set);
  if (!row) {
    throw notFound(`webhook ${id} not found`);
  }
  settings(ctx).changed();
  return presentWebhook(row, body.secret !== undefined);
}

export async function deleteWebhook(ctx: Context, actor: Actor, id: string): Promise<void> {
  requireTenantAdmin(actor);
  if (!(await deleteSubscription(ctx.db, actor.tenantId, id))) {
    throw notFound(`webhook ${id} not found`);
  }
  settings(ctx).changed();
}

/** The subscription's delivery log, newest first. */
export async function listDeliveries(
  ctx: Context,
  actor: Actor,
  id: string,
  query: ListDeliveriesQuery,
): Promise<Page<DeliveryView>> {
  requireTenantAdmin(actor);
  const subscription = await requireSubscription(ctx, actor, id);
  const limit = query.limit ?? DEFAULT_LIMIT;
  const before = query.cursor ? (decodeCursor(query.cursor, ['number']) as [number])[0] : undefined;
  const rows = await listDeliveryRows(ctx.db, subscription.id, {
    ...(query.status !== undefined ? { status: query.status } : {}),
    ...(before !== undefined ? { before } : {}),
    limit: limit + 1,
  });
  return pageOf(rows, limit, presentDelivery, (row) => [Number(row.id)]);
}

/** A subscription of the caller's tenant and one event of its log, or 404. */
async function requireDelivery(ctx: Context, actor: Actor, id: string, deliveryId: string) {
  requireTenantAdmin(actor);
  const subscription = await requireSubscription(ctx, actor, id);
  const found = await findDelivery(ctx.db, subscription.id, deliveryId);
  if (!found) {
    throw notFound(`delivery ${deliveryId} not found`);
  }
  return { subscription, found };
}

/** One event of a subscription's delivery log. */
export async function getDelivery(
  ctx: Context,
  actor: Actor,
  id: string,
  deliveryId: string,
): Promise<DeliveryView> {
  return presentDelivery((await requireDelivery(ctx, actor, id, deliveryId)).found);
}

/** Sends an event again: a copy of it, pending at the end of its chat's queue (the original stays in the log). */
export async function redeliverEvent(
  ctx: Context,
  actor: Actor,
  id: string,
  deliveryId: string,
): Promise<DeliveryView> {
  const { subscription } = await requireDelivery(ctx, actor, id, deliveryId);
  const row = await redeliver(ctx.db, subscription.id, deliveryId);
  if (!row) {
    throw notFound(`delivery ${deliveryId} not found`);
  }
  settings(ctx).changed();
  return presentDelivery(row);
}
