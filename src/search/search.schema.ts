import Type, { type Static } from 'typebox';
import { PageOf } from '../http/routes.ts';
import { MessageView } from '../messages/message.schema.ts';
import { MAX_QUERY_CHARS } from './search.query.ts';

export const SearchSort = Type.Union([Type.Literal('relevance'), Type.Literal('recent')], {
  description: '`relevance` (default): best matches first, then newest; `recent`: newest first.',
});
export type SearchSort = Static<typeof SearchSort>;

export const SearchMessagesQuery = Type.Object(
  {
    q: Type.String({
      minLength: 1,
      maxLength: MAX_QUERY_CHARS,
      description:
        'Words (stemmed, any case, accents optional), parts of words (3+ letters), "quoted phrases", OR, -excluded.',
    }),
    chatId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Search this chat only.' }),
    ),
    sort: Type.Optional(SearchSort),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
export type SearchMessagesQuery = Static<typeof SearchMessagesQuery>;

/** The same as SearchMessagesQuery, for one chat: what a dialect passes to `searchChat`. */
export type SearchChatQuery = Omit<SearchMessagesQuery, 'chatId'>;

export const SearchHitView = Type.Object({
  message: MessageView,
  /** HTML-escaped text around the first match, every match in `<mark>…</mark>`, cut with `…` when long. */
  highlight: Type.String(),
  /** Relevance, higher is better: > 0 for whole-word matches, 0 for messages that only match part of a word. */
  rank: Type.Number(),
});
export type SearchHitView = Static<typeof SearchHitView>;

export const SearchPage = PageOf(SearchHitView);
