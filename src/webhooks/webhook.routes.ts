import { actorOf } from '../auth/auth.hook.ts';
import { NoContent, operation, PageOf, secured, type Routes } from '../http/routes.ts';
import {
  CreateWebhookBody,
  DeliveryParams,
  DeliveryView,
  ListDeliveriesQuery,
  ListWebhooksQuery,
  UpdateWebhookBody,
  WebhookIdParams,
  WebhookView,
} from './webhook.schema.ts';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listDeliveries,
  listWebhooks,
  getDelivery,
  redeliverEvent,
  updateWebhook,
} from './webhook.service.ts';

/** A tenant's webhook subscriptions and their delivery log (docs/webhooks.md). For tenant administrators. */
export const webhookRoutes: Routes = async (app, { ctx }) => {
  app.post(
    '/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        ...operation('createWebhook', 'Subscribe a URL to the tenant’s events', [
          'forbidden',
          'limit_exceeded',
        ]),
        ...secured,
        description:
          'The answer carries the whole `secret` (generated unless given): keep it, it is not shown again. ' +
          'At most `PARLEY_WEBHOOKS_PER_TENANT` per tenant. For tenant administrators.',
        body: CreateWebhookBody,
        response: { 201: WebhookView },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createWebhook(ctx, actorOf(request), request.body)),
  );

  app.get(
    '/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        ...operation('listWebhooks', 'The tenant’s webhook subscriptions', ['forbidden']),
        ...secured,
        description: 'Oldest first. For tenant administrators.',
        querystring: ListWebhooksQuery,
        response: { 200: PageOf(WebhookView) },
      },
    },
    (request) => listWebhooks(ctx, actorOf(request), request.query),
  );

  app.get(
    '/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        ...operation('getWebhook', 'A webhook subscription', ['not_found', 'forbidden']),
        ...secured,
        description: 'For tenant administrators.',
        params: WebhookIdParams,
        response: { 200: WebhookView },
      },
    },
    (request) => getWebhook(ctx, actorOf(request), request.params.id),
  );

  app.patch(
    '/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        ...operation('updateWebhook', 'Change a webhook subscription', ['not_found', 'forbidden']),
        ...secured,
        description:
          'URL, secret (the answer then shows it), event types, enabled, description. A disabled subscription ' +
          'records no new events and sends none until enabled again. For tenant administrators.',
        params: WebhookIdParams,
        body: UpdateWebhookBody,
        response: { 200: WebhookView },
      },
    },
    (request) => updateWebhook(ctx, actorOf(request), request.params.id, request.body),
  );

  app.delete(
    '/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        ...operation('deleteWebhook', 'Remove a webhook subscription and its log', [
          'not_found',
          'forbidden',
        ]),
        ...secured,
        description: 'Its pending events are dropped. For tenant administrators.',
        params: WebhookIdParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await deleteWebhook(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        tags: ['webhooks'],
        ...operation('listWebhookDeliveries', 'The delivery log of a subscription', [
          'not_found',
          'forbidden',
        ]),
        ...secured,
        description: 'Newest first, by `status` (`pending`, `delivered`, `dead`). For tenant administrators.',
        params: WebhookIdParams,
        querystring: ListDeliveriesQuery,
        response: { 200: PageOf(DeliveryView) },
      },
    },
    (request) => listDeliveries(ctx, actorOf(request), request.params.id, request.query),
  );

  app.get(
    '/webhooks/:id/deliveries/:deliveryId',
    {
      schema: {
        tags: ['webhooks'],
        ...operation('getWebhookDelivery', 'One event of the delivery log', ['not_found', 'forbidden']),
        ...secured,
        description: 'What became of one event for this subscription. For tenant administrators.',
        params: DeliveryParams,
        response: { 200: DeliveryView },
      },
    },
    (request) => getDelivery(ctx, actorOf(request), request.params.id, request.params.deliveryId),
  );

  app.post(
    '/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      schema: {
        tags: ['webhooks'],
        ...operation('redeliverWebhookEvent', 'Send an event again', ['not_found', 'forbidden']),
        ...secured,
        description:
          'A copy of the event, pending at the end of its chat’s queue (the original stays in the log as it was). ' +
          'For tenant administrators.',
        params: DeliveryParams,
        response: { 202: DeliveryView },
      },
    },
    async (request, reply) => {
      const { id, deliveryId } = request.params;
      return reply.status(202).send(await redeliverEvent(ctx, actorOf(request), id, deliveryId));
    },
  );
};
