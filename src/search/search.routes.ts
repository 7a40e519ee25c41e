import { actorOf } from '../auth/auth.hook.ts';
import { operation, secured, type Routes } from '../http/routes.ts';
import { SearchMessagesQuery, SearchPage } from './search.schema.ts';
import { searchMessages } from './search.service.ts';

export const searchRoutes: Routes = async (app, { ctx }) => {
  app.get(
    '/search/messages',
    {
      schema: {
        tags: ['search'],
        ...operation('searchMessages', 'Search the messages of your chats', ['not_found']),
        ...secured,
        description:
          'Messages in the caller\'s chats (or `chatId`) matching `q`: whole words with stemming, "phrases", OR, ' +
          '-exclusions, and parts of words of 3+ letters; case and accents ignored. Best matches first, then newest ' +
          '(`sort=recent`: newest first). Each hit has the message and an HTML-escaped highlight with <mark> tags.',
        querystring: SearchMessagesQuery,
        response: { 200: SearchPage },
      },
    },
    (request) => searchMessages(ctx, actorOf(request), request.query),
  );
};
