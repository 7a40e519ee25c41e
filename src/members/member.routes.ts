import { actorOf } from '../auth/auth.hook.ts';
import { ChatParams } from '../chats/chat.schema.ts';
import { NoContent, operation, PageOf, secured, type Routes } from '../http/routes.ts';
import {
  AddMemberBody,
  ListMembersQuery,
  MemberParams,
  MemberView,
  UpdateMemberBody,
} from './member.schema.ts';
import { addMember, getMember, listMembers, removeMember, updateMember } from './member.service.ts';

export const memberRoutes: Routes = async (app, { ctx }) => {
  app.get(
    '/chats/:id/members',
    {
      schema: {
        tags: ['members'],
        ...operation('listMembers', "List a chat's members", ['not_found']),
        ...secured,
        params: ChatParams,
        querystring: ListMembersQuery,
        response: { 200: PageOf(MemberView) },
      },
    },
    (request) => listMembers(ctx, actorOf(request), request.params.id, request.query),
  );

  app.post(
    '/chats/:id/members',
    {
      schema: {
        tags: ['members'],
        ...operation('addMember', 'Add a member to a group, or join a public one', [
          'not_found',
          'forbidden',
          'conflict',
          'limit_exceeded',
        ]),
        ...secured,
        description: 'Owners and admins add members; anyone may add themselves to a public group.',
        params: ChatParams,
        body: AddMemberBody,
        response: { 201: MemberView },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await addMember(ctx, actorOf(request), request.params.id, request.body)),
  );

  app.get(
    '/chats/:id/members/:userId',
    {
      schema: {
        tags: ['members'],
        ...operation('getMember', 'A member of a chat', ['not_found']),
        ...secured,
        params: MemberParams,
        response: { 200: MemberView },
      },
    },
    (request) => getMember(ctx, actorOf(request), request.params.id, request.params.userId),
  );

  app.patch(
    '/chats/:id/members/:userId',
    {
      schema: {
        tags: ['members'],
        ...operation('updateMember', "Change a member's role", ['not_found', 'forbidden', 'conflict']),
        ...secured,
        params: MemberParams,
        body: UpdateMemberBody,
        response: { 200: MemberView },
      },
    },
    (request) => updateMember(ctx, actorOf(request), request.params.id, request.params.userId, request.body),
  );

  app.delete(
    '/chats/:id/members/:userId',
    {
      schema: {
        tags: ['members'],
        ...operation('removeMember', 'Leave a chat, or remove a member from it', ['not_found', 'forbidden']),
        ...secured,
        params: MemberParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await removeMember(ctx, actorOf(request), request.params.id, request.params.userId);
      return reply.status(204).send(null);
    },
  );
};
