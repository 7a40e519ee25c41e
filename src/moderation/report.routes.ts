import { actorOf } from '../auth/auth.hook.ts';
import { operation, PageOf, secured, type Routes } from '../http/routes.ts';
import { MessageParams } from '../messages/message.schema.ts';
import {
  ListReportsQuery,
  ReportBody,
  ReportIdParams,
  ReportView,
  ResolveReportBody,
} from './moderation.schema.ts';
import { getReport, listReports, reportMessage, resolveReport } from './report.service.ts';

/** Reports of messages, and what tenant administrators do with them (docs/moderation.md, "Reports"). */
export const reportRoutes: Routes = async (app, { ctx }) => {
  app.post(
    '/chats/:id/messages/:seq/report',
    {
      schema: {
        tags: ['moderation'],
        ...operation('reportMessage', 'Report a message to the tenant’s administrators', [
          'not_found',
          'conflict',
        ]),
        ...secured,
        description:
          'By a member of the chat, once per message (409 the second time, and for a deleted message); not your ' +
          'own message (400).',
        params: MessageParams,
        body: ReportBody,
        response: { 201: ReportView },
      },
    },
    async (request, reply) => {
      const { id, seq } = request.params;
      return reply.status(201).send(await reportMessage(ctx, actorOf(request), id, seq, request.body));
    },
  );

  app.get(
    '/reports',
    {
      schema: {
        tags: ['moderation'],
        ...operation('listReports', 'Reports of messages', ['forbidden']),
        ...secured,
        description: 'Oldest first, by `status` and `chatId`. For tenant administrators.',
        querystring: ListReportsQuery,
        response: { 200: PageOf(ReportView) },
      },
    },
    (request) => listReports(ctx, actorOf(request), request.query),
  );

  app.get(
    '/reports/:id',
    {
      schema: {
        tags: ['moderation'],
        ...operation('getReport', 'A report of a message', ['not_found', 'forbidden']),
        ...secured,
        description: 'For tenant administrators.',
        params: ReportIdParams,
        response: { 200: ReportView },
      },
    },
    (request) => getReport(ctx, actorOf(request), request.params.id),
  );

  app.post(
    '/reports/:id/resolve',
    {
      schema: {
        tags: ['moderation'],
        ...operation('resolveReport', 'Act on a report', ['not_found', 'forbidden', 'conflict']),
        ...secured,
        description:
          '`delete_message`, `mute_author` (until `until`, or until unmuted), `ban_author` (groups only) or ' +
          '`dismiss`; every open report of the message is resolved with it, and each reporter told ' +
          '(`report.resolved`). A report resolved already is a 409 (of two administrators at once, one wins). ' +
          'For tenant administrators.',
        params: ReportIdParams,
        body: ResolveReportBody,
        response: { 200: ReportView },
      },
    },
    (request) => resolveReport(ctx, actorOf(request), request.params.id, request.body),
  );
};
