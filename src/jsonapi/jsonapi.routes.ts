import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { actorOf } from '../auth/auth.hook.ts';
import { ChatParams } from '../chats/chat.schema.ts';
import { getChat } from '../chats/chat.service.ts';
import type { Context } from '../context.ts';
import { AppError, forbidden, notFound } from '../errors/codes.ts';
import { NoContent, operation, secured } from '../http/routes.ts';
import { ListMembersQuery, MemberParams } from '../members/member.schema.ts';
import { addMembers, getMember, listMembers, removeMembers } from '../members/member.service.ts';
import { MessageParams } from '../messages/message.schema.ts';
import { getMessage } from '../messages/message.service.ts';
import { linkageOf, nodeOf } from './jsonapi.document.ts';
import type { Operation, ResourceType } from './jsonapi.fields.ts';
import { Loader } from './jsonapi.loader.ts';
import type { JsonApiRuntime } from './jsonapi.plugin.ts';
import { documentError, IdentifiersDocument } from './jsonapi.request.ts';
import { relationshipOf, type AnyView } from './jsonapi.resources.ts';
import type { RouteSpec } from './jsonapi.spec.ts';

interface Options {
  ctx: Context;
  runtime: JsonApiRuntime;
}

const tags = ['jsonapi'];
const Name = Type.String({ minLength: 1, maxLength: 64 });

/** A JSON:API-only route: it has no native representation. */
function only(type: ResourceType, operation: Operation, list?: RouteSpec['list']): { jsonapi: RouteSpec } {
  return { jsonapi: { type, operation, returns: 'document', only: true, ...(list ? { list } : {}) } };
}

/** The user ids of a to-many request document; every identifier must name a user. */
function userIds(body: IdentifiersDocument): string[] {
  return body.data.map((identifier, i) => {
    if (identifier.type !== 'users') {
      throw documentError(
        'invalid_request',
        `/data/${i}/type`,
        `data[${i}].type`,
        `must be users, not ${identifier.type}`,
      );
    }
    return identifier.id;
  });
}

/** A service's "no user with id" about one of the document's ids points at that identifier. */
async function pointingAtUsers<T>(ids: string[], work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const id =
      error instanceof AppError
        ? /^userId: no user with id "(.*)" in this tenant$/.exec(error.message)?.[1]
        : undefined;
    const index = id === undefined ? -1 : ids.indexOf(id);
    if (index >= 0) {
      throw documentError(
        'invalid_request',
        `/data/${index}/id`,
        `data[${index}].id`,
        `no user with id "${id}" in this tenant`,
      );
    }
    throw error;
  }
}

/**
 * JSON:API relationship endpoints. A chat's members (`/v1/chats/{id}/relationships/members`): read the user ids
 * page by page, add users (POST) and remove them (DELETE) by the members' rules, all or none; replacing them all
 * (PATCH) is refused. Every other relationship link a document shows can be read (GET).
 */
export const relationshipRoutes: FastifyPluginAsyncTypebox<Options> = async (app, { ctx, runtime }) => {
  app.get(
    '/chats/:id/relationships/members',
    {
      schema: {
        tags,
        ...operation('listChatMemberIds', "A chat's members, as user identifiers", ['not_found']),
        ...secured,
        params: ChatParams,
        querystring: ListMembersQuery,
      },
      config: only('members', 'list', {}),
    },
    async (request) => {
      const page = await listMembers(ctx, actorOf(request), request.params.id, request.query);
      const next = page.nextCursor;
      return runtime.relationshipDocument(
        request,
        page.data.map((member) => ({ type: 'users', id: member.userId })),
        {
          next:
            next !== null
              ? runtime.link(request, [...(request.jsonapi?.query?.carried ?? []), ['page[cursor]', next]])
              : null,
        },
      );
    },
  );

  /** Adding and removing members: a chat in the path, user identifiers in the body, 204. */
  const changeMembers = (action: 'create' | 'delete') => ({
    schema: {
      tags,
      ...(action === 'create'
        ? operation('addChatMembers', 'Add users to a chat', ['not_found', 'forbidden', 'limit_exceeded'])
        : operation('removeChatMembers', 'Remove users from a chat', ['not_found', 'forbidden'])),
      ...secured,
      params: ChatParams,
      body: IdentifiersDocument,
      response: { 204: NoContent },
    },
    config: only('members', action),
  });

  app.post('/chats/:id/relationships/members', changeMembers('create'), async (request, reply) => {
    const ids = userIds(request.body);
    await pointingAtUsers(ids, addMembers(ctx, actorOf(request), request.params.id, ids));
    return reply.status(204).send(null);
  });

  app.delete('/chats/:id/relationships/members', changeMembers('delete'), async (request, reply) => {
    await removeMembers(ctx, actorOf(request), request.params.id, userIds(request.body));
    return reply.status(204).send(null);
  });

  app.patch(
    '/chats/:id/relationships/members',
    {
      schema: {
        tags,
        ...operation('replaceChatMembers', "Replace a chat's members: always refused", [
          'not_found',
          'forbidden',
        ]),
        description:
          'Not supported: 403 to the chat’s members (POST adds members, DELETE removes them), 404 to anyone else.',
        ...secured,
        params: ChatParams,
        body: IdentifiersDocument,
      },
      config: only('members', 'update'),
    },
    async (request) => {
      // A chat the caller cannot see is a 404 here too, like on every chat route; only its members learn that
      // replacing is not supported.
      await getChat(ctx, actorOf(request), request.params.id);
      throw forbidden(
        'replacing all members of a chat is not supported: POST adds members, DELETE removes them',
      );
    },
  );

  /** A to-one relationship of a resource the caller can read. */
  async function toOne(request: FastifyRequest, type: ResourceType, view: AnyView, name: string) {
    const relationship = relationshipOf(type, name);
    if (!relationship || relationship.many) {
      throw notFound(`${type} have no relationship "${name}" here`);
    }
    const data = await linkageOf(new Loader(ctx, actorOf(request)), nodeOf(type, view), name);
    const paths = relationship.links(view);
    const base = runtime.base(request);
    return runtime.relationshipDocument(request, data ?? null, {
      self: base + paths.self,
      ...(paths.related ? { related: base + paths.related } : {}),
    });
  }

  app.get(
    '/chats/:id/relationships/:name',
    {
      schema: {
        tags,
        ...operation('getChatRelationship', "A chat's to-one relationship (`creator`, `lastMessage`)", [
          'not_found',
        ]),
        ...secured,
        params: Type.Object({ id: ChatParams.properties.id, name: Name }),
      },
      config: only('chats', 'read'),
    },
    async (request) =>
      toOne(request, 'chats', await getChat(ctx, actorOf(request), request.params.id), request.params.name),
  );

  app.get(
    '/chats/:id/messages/:seq/relationships/:name',
    {
      schema: {
        tags,
        ...operation(
          'getMessageRelationship',
          "A message's to-one relationship (`author`, `chat`, `replyTo`)",
          ['not_found'],
        ),
        ...secured,
        params: Type.Object({
          id: MessageParams.properties.id,
          seq: MessageParams.properties.seq,
          name: Name,
        }),
      },
      config: only('messages', 'read'),
    },
    async (request) => {
      const { id, seq, name } = request.params;
      return toOne(request, 'messages', await getMessage(ctx, actorOf(request), id, seq), name);
    },
  );

  app.get(
    '/chats/:id/members/:userId/relationships/:name',
    {
      schema: {
        tags,
        ...operation('getMemberRelationship', "A member's to-one relationship (`user`, `chat`)", [
          'not_found',
        ]),
        ...secured,
        params: Type.Object({
          id: MemberParams.properties.id,
          userId: MemberParams.properties.userId,
          name: Name,
        }),
      },
      config: only('members', 'read'),
    },
    async (request) => {
      const { id, userId, name } = request.params;
      return toOne(request, 'members', await getMember(ctx, actorOf(request), id, userId), name);
    },
  );
};
