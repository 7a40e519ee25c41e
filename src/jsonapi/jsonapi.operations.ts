import type { FastifyRequest } from 'fastify';
import { actorOf } from '../auth/auth.hook.ts';
import { findMessageWithId, getMessage } from '../messages/message.service.ts';
import type { RouteSpec } from './jsonapi.spec.ts';
import { memberId } from './jsonapi.resources.ts';

/** Path parameters as the router gives them (before validation they are strings; after, `seq` is a number). */
const params = (request: FastifyRequest) => request.params as Record<string, string>;
const chatOfUrl = (request: FastifyRequest) => params(request).id ?? '';

/**
 * Every native route's JSON:API face, by method and path under Parley's prefix. The native route files stay as
 * they are; the JSON:API layer attaches each entry to its route (and answers only natively for routes not here).
 */
export const NATIVE_ROUTES: Record<string, RouteSpec> = {
  // Uploads take multipart (never a JSON:API document); their answers are `files` resources.
  'POST /v1/chats/:id/files': { type: 'files', operation: 'create', returns: 'resource' },
  'GET /v1/files/:id': { type: 'files', operation: 'read', returns: 'resource' },
  'GET /v1/me': { type: 'users', operation: 'read', returns: 'resource' },
  'PATCH /v1/me': {
    type: 'users',
    operation: 'update',
    returns: 'resource',
    body: { id: { target: (request) => actorOf(request).userId } },
  },
  'POST /v1/users': {
    type: 'users',
    operation: 'create',
    returns: 'resource',
    body: { id: { field: 'id' } },
  },
  'GET /v1/users': {
    type: 'users',
    operation: 'list',
    returns: 'page',
    list: { sort: { username: {} }, filters: ['username', 'q'] },
  },
  'GET /v1/users/:id': { type: 'users', operation: 'read', returns: 'resource' },
  'DELETE /v1/me': { type: 'users', operation: 'delete', returns: 'resource' },
  'DELETE /v1/users/:id': { type: 'users', operation: 'delete', returns: 'resource' },

  'POST /v1/chats': {
    type: 'chats',
    operation: 'create',
    returns: 'resource',
    body: { relationships: { members: { type: 'users', many: true, field: 'members' } } },
  },
  'GET /v1/chats': {
    type: 'chats',
    operation: 'list',
    returns: 'page',
    list: { sort: { '-activity': {} }, filters: ['archived', 'includeHidden'] },
  },
  'GET /v1/chats/:id': { type: 'chats', operation: 'read', returns: 'resource' },
  'PATCH /v1/chats/:id': {
    type: 'chats',
    operation: 'update',
    returns: 'resource',
    body: { id: { target: chatOfUrl } },
  },
  'DELETE /v1/chats/:id': { type: 'chats', operation: 'delete', returns: 'resource' },

  'GET /v1/chats/:id/members': {
    type: 'members',
    operation: 'list',
    returns: 'page',
    list: { sort: { userId: {} } },
  },
  'POST /v1/chats/:id/members': {
    type: 'members',
    operation: 'create',
    returns: 'resource',
    body: {
      relationships: {
        user: { type: 'users', field: 'userId' },
        chat: { type: 'chats', fixed: chatOfUrl },
      },
    },
  },
  'GET /v1/chats/:id/members/:userId': { type: 'members', operation: 'read', returns: 'resource' },
  'PATCH /v1/chats/:id/members/:userId': {
    type: 'members',
    operation: 'update',
    returns: 'resource',
    body: { id: { target: (request) => memberId(chatOfUrl(request), params(request).userId ?? '') } },
  },
  'DELETE /v1/chats/:id/members/:userId': { type: 'members', operation: 'delete', returns: 'resource' },

  'POST /v1/chats/:id/messages': {
    type: 'messages',
    operation: 'create',
    returns: 'resource',
    body: {
      relationships: {
        replyTo: {
          type: 'messages',
          field: 'replyTo',
          resolve: async (request, ctx, id) =>
            (await findMessageWithId(ctx, actorOf(request), chatOfUrl(request), id))?.seq ?? null,
        },
        chat: { type: 'chats', fixed: chatOfUrl },
        author: { type: 'users', fixed: (request) => actorOf(request).userId },
      },
    },
  },
  'GET /v1/chats/:id/messages': {
    type: 'messages',
    operation: 'list',
    returns: 'page',
    list: { sort: { seq: {} }, bounds: true },
  },
  'GET /v1/chats/:id/messages/:seq': { type: 'messages', operation: 'read', returns: 'resource' },
  // A thread's replies are messages, paged as the chat's.
  'GET /v1/chats/:id/messages/:seq/thread': {
    type: 'messages',
    operation: 'list',
    returns: 'page',
    list: { sort: { seq: {} }, bounds: true },
  },
  'PATCH /v1/chats/:id/messages/:seq': {
    type: 'messages',
    operation: 'update',
    returns: 'resource',
    body: {
      id: {
        target: async (request, ctx) => {
          const { id, seq } = request.params as { id: string; seq: number };
          return (await getMessage(ctx, actorOf(request), id, seq)).id;
        },
      },
    },
  },
  'DELETE /v1/chats/:id/messages/:seq': { type: 'messages', operation: 'delete', returns: 'resource' },

  // Reacting changes the message (its reactions); who reacted are users.
  'PUT /v1/chats/:id/messages/:seq/reactions/:emoji': {
    type: 'messages',
    operation: 'update',
    returns: 'reaction',
  },
  'DELETE /v1/chats/:id/messages/:seq/reactions/:emoji': {
    type: 'messages',
    operation: 'update',
    returns: 'resource',
  },
  'GET /v1/chats/:id/messages/:seq/reactions/:emoji/users': {
    type: 'users',
    operation: 'list',
    returns: 'reactors',
  },

  // Pinning changes the message (its pinnedAt, pinnedBy); a chat's pins are messages.
  'PUT /v1/chats/:id/messages/:seq/pin': { type: 'messages', operation: 'update', returns: 'resource' },
  'DELETE /v1/chats/:id/messages/:seq/pin': { type: 'messages', operation: 'update', returns: 'resource' },
  'GET /v1/chats/:id/pins': { type: 'messages', operation: 'list', returns: 'page' },

  // Who has read a message are users, each with their read cursor in meta.
  'GET /v1/chats/:id/messages/:seq/receipts': { type: 'users', operation: 'list', returns: 'readers' },

  // Reading a thread is an update of the caller's view of its root: `seq` is how far.
  'POST /v1/chats/:id/messages/:seq/thread/read': {
    type: 'messages',
    operation: 'update',
    returns: 'threadRead',
    body: {
      id: {
        target: async (request, ctx) => {
          const { id, seq } = request.params as { id: string; seq: number };
          return (await getMessage(ctx, actorOf(request), id, seq)).id;
        },
      },
    },
  },

  // Reading is an update of the caller's view of the chat: its lastReadSeq.
  'POST /v1/chats/:id/read': {
    type: 'chats',
    operation: 'update',
    returns: 'read',
    body: { id: { target: chatOfUrl }, rename: { lastReadSeq: 'seq' } },
  },
  'GET /v1/unread': { type: 'chats', operation: 'list', returns: 'unread' },
  // The caller's settings of a chat are that chat's `settings` attribute; a change sends them as attributes.
  'GET /v1/chats/:id/settings': { type: 'chats', operation: 'read', returns: 'settings' },
  'PATCH /v1/chats/:id/settings': {
    type: 'chats',
    operation: 'update',
    returns: 'settings',
    body: { id: { target: chatOfUrl }, unwrap: 'settings' },
  },

  // Hits are messages; each one's highlight and rank are its meta. The native `sort` is spelled as sort fields.
  'GET /v1/search/messages': {
    type: 'messages',
    operation: 'list',
    returns: 'search',
    list: {
      sort: { relevance: { sort: 'relevance' }, '-createdAt': { sort: 'recent' } },
      filters: ['q', 'chatId'],
    },
  },

  // Moderation (docs/moderation.md): each its own type, whose related ids are attributes.
  'GET /v1/me/blocks': { type: 'blocks', operation: 'list', returns: 'page', list: { sort: { userId: {} } } },
  'GET /v1/me/blocks/:userId': { type: 'blocks', operation: 'read', returns: 'resource' },
  'PUT /v1/me/blocks/:userId': { type: 'blocks', operation: 'create', returns: 'resource' },
  'DELETE /v1/me/blocks/:userId': { type: 'blocks', operation: 'delete', returns: 'resource' },
  'GET /v1/chats/:id/members/:userId/mute': { type: 'mutes', operation: 'read', returns: 'resource' },
  'POST /v1/chats/:id/members/:userId/mute': {
    type: 'mutes',
    operation: 'create',
    returns: 'resource',
    body: {},
  },
  'DELETE /v1/chats/:id/members/:userId/mute': { type: 'mutes', operation: 'delete', returns: 'resource' },
  'GET /v1/chats/:id/members/:userId/ban': { type: 'bans', operation: 'read', returns: 'resource' },
  'POST /v1/chats/:id/members/:userId/ban': {
    type: 'bans',
    operation: 'create',
    returns: 'resource',
    body: {},
  },
  'DELETE /v1/chats/:id/members/:userId/ban': { type: 'bans', operation: 'delete', returns: 'resource' },
  'GET /v1/chats/:id/bans': {
    type: 'bans',
    operation: 'list',
    returns: 'page',
    list: { sort: { createdAt: {} } },
  },
  'GET /v1/chats/:id/moderation-log': {
    type: 'logEntries',
    operation: 'list',
    returns: 'page',
    list: { sort: { '-at': {} } },
  },
  'GET /v1/moderation-log': {
    type: 'logEntries',
    operation: 'list',
    returns: 'page',
    list: { sort: { '-at': {} }, filters: ['chatId'] },
  },
  'GET /v1/moderation-log/:id': { type: 'logEntries', operation: 'read', returns: 'resource' },
  'POST /v1/chats/:id/messages/:seq/report': {
    type: 'reports',
    operation: 'create',
    returns: 'resource',
    body: {},
  },
  'GET /v1/reports': {
    type: 'reports',
    operation: 'list',
    returns: 'page',
    list: { sort: { createdAt: {} }, filters: ['status', 'chatId'] },
  },
  'GET /v1/reports/:id': { type: 'reports', operation: 'read', returns: 'resource' },
  'POST /v1/reports/:id/resolve': {
    type: 'reports',
    operation: 'update',
    returns: 'resource',
    body: { id: { target: (request) => params(request).id ?? '' } },
  },

  // Webhooks (docs/webhooks.md): subscriptions and their delivery log, for tenant administrators.
  'POST /v1/webhooks': { type: 'webhooks', operation: 'create', returns: 'resource', body: {} },
  'GET /v1/webhooks': {
    type: 'webhooks',
    operation: 'list',
    returns: 'page',
    list: { sort: { createdAt: {} } },
  },
  'GET /v1/webhooks/:id': { type: 'webhooks', operation: 'read', returns: 'resource' },
  'PATCH /v1/webhooks/:id': {
    type: 'webhooks',
    operation: 'update',
    returns: 'resource',
    body: { id: { target: (request) => params(request).id ?? '' } },
  },
  'DELETE /v1/webhooks/:id': { type: 'webhooks', operation: 'delete', returns: 'resource' },
  'GET /v1/webhooks/:id/deliveries': {
    type: 'webhookDeliveries',
    operation: 'list',
    returns: 'page',
    list: { sort: { '-createdAt': {} }, filters: ['status'] },
  },
  'GET /v1/webhooks/:id/deliveries/:deliveryId': {
    type: 'webhookDeliveries',
    operation: 'read',
    returns: 'resource',
  },
  'POST /v1/webhooks/:id/deliveries/:deliveryId/redeliver': {
    type: 'webhookDeliveries',
    operation: 'create',
    returns: 'resource',
  },
};
