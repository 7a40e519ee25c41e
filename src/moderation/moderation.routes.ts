import { actorOf } from '../auth/auth.hook.ts';
import { ChatParams } from '../chats/chat.schema.ts';
import { NoContent, operation, PageOf, secured, type Routes } from '../http/routes.ts';
import { MemberParams } from '../members/member.schema.ts';
import {
  BanBody,
  BanView,
  LogEntryParams,
  LogEntryView,
  MuteBody,
  MuteView,
  PageQuery,
  TenantLogQuery,
} from './moderation.schema.ts';
import {
  banMember,
  chatLog,
  getBan,
  getLogEntry,
  getMute,
  listBans,
  muteMember,
  tenantLog,
  unbanMember,
  unmuteMember,
} from './moderation.service.ts';

const WHO =
  'For the chat’s owners and admins (an admin acts on plain members only) and the tenant’s administrators, in ' +
  'the chat or not; a member who is neither gets 403, anyone else 404.';

/** Mutes, bans and the moderation log of a chat, and the tenant's log (docs/moderation.md). */
export const moderationRoutes: Routes = async (app, { ctx }) => {
  app.post(
    '/chats/:id/members/:userId/mute',
    {
      schema: {
        tags: ['moderation'],
        ...operation('muteMember', 'Mute a member of a group', ['not_found', 'forbidden']),
        ...secured,
        description:
          `Their messages are refused (403, \`details\`: \`[{"reason": "muted", "until"}]\`) until \`until\`, or ` +
          `until unmuted; muting again replaces the end and the reason. ${WHO}`,
        params: MemberParams,
        body: MuteBody,
        response: { 200: MuteView },
      },
    },
    (request) => muteMember(ctx, actorOf(request), request.params.id, request.params.userId, request.body),
  );

  app.get(
    '/chats/:id/members/:userId/mute',
    {
      schema: {
        tags: ['moderation'],
        ...operation('getMute', "A member's mute in force", ['not_found', 'forbidden']),
        ...secured,
        description: `404 when they are not muted (or their mute's time has passed). ${WHO}`,
        params: MemberParams,
        response: { 200: MuteView },
      },
    },
    (request) => getMute(ctx, actorOf(request), request.params.id, request.params.userId),
  );

  app.delete(
    '/chats/:id/members/:userId/mute',
    {
      schema: {
        tags: ['moderation'],
        ...operation('unmuteMember', 'Lift a mute', ['not_found', 'forbidden']),
        ...secured,
        description: `204 also when they were not muted. ${WHO}`,
        params: MemberParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await unmuteMember(ctx, actorOf(request), request.params.id, request.params.userId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/chats/:id/members/:userId/ban',
    {
      schema: {
        tags: ['moderation'],
        ...operation('banMember', 'Ban a user from a group', ['not_found', 'forbidden']),
        ...secured,
        description:
          'Removes them if they are in it (`member.removed`), and no one can add them again, nor can they join, ' +
          `until unbanned. A user not in the chat may be banned too. ${WHO}`,
        params: MemberParams,
        body: BanBody,
        response: { 200: BanView },
      },
    },
    (request) =>
      banMember(ctx, actorOf(request), request.params.id, request.params.userId, request.body ?? {}),
  );

  app.get(
    '/chats/:id/members/:userId/ban',
    {
      schema: {
        tags: ['moderation'],
        ...operation('getBan', "A user's ban from a group", ['not_found', 'forbidden']),
        ...secured,
        description: `404 when they are not banned. ${WHO}`,
        params: MemberParams,
        response: { 200: BanView },
      },
    },
    (request) => getBan(ctx, actorOf(request), request.params.id, request.params.userId),
  );

  app.delete(
    '/chats/:id/members/:userId/ban',
    {
      schema: {
        tags: ['moderation'],
        ...operation('unbanMember', 'Lift a ban', ['not_found', 'forbidden']),
        ...secured,
        description: `They may be added again (they are not added back). 204 also when they were not banned. ${WHO}`,
        params: MemberParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await unbanMember(ctx, actorOf(request), request.params.id, request.params.userId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/chats/:id/bans',
    {
      schema: {
        tags: ['moderation'],
        ...operation('listBans', 'Who is banned from a group', ['not_found', 'forbidden']),
        ...secured,
        description: `First banned first. ${WHO}`,
        params: ChatParams,
        querystring: PageQuery,
        response: { 200: PageOf(BanView) },
      },
    },
    (request) => listBans(ctx, actorOf(request), request.params.id, request.query),
  );

  app.get(
    '/chats/:id/moderation-log',
    {
      schema: {
        tags: ['moderation'],
        ...operation('getChatModerationLog', "A chat's moderation log", ['not_found', 'forbidden']),
        ...secured,
        description: `Every mute, unmute, ban, unban, report and action on a report in the chat, newest first. ${WHO}`,
        params: ChatParams,
        querystring: PageQuery,
        response: { 200: PageOf(LogEntryView) },
      },
    },
    (request) => chatLog(ctx, actorOf(request), request.params.id, request.query),
  );

  app.get(
    '/moderation-log',
    {
      schema: {
        tags: ['moderation'],
        ...operation('getModerationLog', "The tenant's moderation log", ['forbidden']),
        ...secured,
        description: 'Every chat’s, newest first (`chatId` narrows it to one). For tenant administrators.',
        querystring: TenantLogQuery,
        response: { 200: PageOf(LogEntryView) },
      },
    },
    (request) => tenantLog(ctx, actorOf(request), request.query),
  );

  app.get(
    '/moderation-log/:id',
    {
      schema: {
        tags: ['moderation'],
        ...operation('getModerationLogEntry', 'One entry of the moderation log', ['not_found']),
        ...secured,
        description:
          'For tenant administrators, and for the owners and admins of its chat; 404 for anyone else.',
        params: LogEntryParams,
        response: { 200: LogEntryView },
      },
    },
    (request) => getLogEntry(ctx, actorOf(request), request.params.id),
  );
};
