import type { ChatView } from '../../src/chats/chat.schema.ts';
import type { ChatSettingsView } from '../../src/chats/settings.schema.ts';
import type { DevTokenView } from '../../src/demo/demo.schema.ts';
import type { ErrorCode } from '../../src/errors/codes.ts';
import type { HealthView } from '../../src/health/health.routes.ts';
import type { MemberView } from '../../src/members/member.schema.ts';
import type { MessageView, ReadView, ThreadReadView, UnreadView } from '../../src/messages/message.schema.ts';
import type { ReactionChangeView, ReactionUserView } from '../../src/messages/reaction.schema.ts';
import type { ReceiptView } from '../../src/messages/receipt.schema.ts';
import type { BanView, LogEntryView, MuteView, ReportView } from '../../src/moderation/moderation.schema.ts';
import type { SearchHitView } from '../../src/search/search.schema.ts';
import type { BlockView } from '../../src/users/block.schema.ts';
import type { UserView } from '../../src/users/user.schema.ts';

/**
 * The body types of Parley's native API, by method and URL, for the test clients: `client.get(`/v1/chats/${id}`)`
 * answers a `Response<ChatView>`, so a misspelt field in a test is a type error. URLs are matched as the template
 * literal types TypeScript gives them, under any mount prefix (`/api/v1/me` too). A URL no route here matches (a
 * dialect's, a 404 on purpose, a `string` built at run time) answers `unknown`, which a test names with a type
 * argument (`client.get<Page<ChatView>>(url)`) or reads through a checking helper. The body is what the route answers
 * on success; error answers are read with `assertError` (support/assertions.ts).
 */

export type {
  BanView,
  BlockView,
  LogEntryView,
  MuteView,
  ReportView,
  ChatSettingsView,
  ChatView,
  DevTokenView,
  HealthView,
  MemberView,
  MessageView,
  ReactionChangeView,
  ReactionUserView,
  ReadView,
  ReceiptView,
  SearchHitView,
  ThreadReadView,
  UnreadView,
  UserView,
};

/** A page of a list route: `{ data, nextCursor }`. */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** The standard error body; each of its details is an object (`{field, in, problem}`, `{limit, max}`...). */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown>[] };
}

/** The path of a URL, without its query string. */
type PathOf<U extends string> = U extends `${infer P}?${string}` ? P : U;

/** Any mount prefix (none, `/api`, a host's), then the API's version. */
type V1 = `${string}/v1`;

/**
 * The native routes, `[method, path pattern, body on success]`, the first that matches wins: more specific paths
 * first, and the ones no test reads natively (JSON:API relationships) as `unknown` before the patterns they would
 * otherwise fall into.
 */
type Routes = [
  ['GET', `${V1}/me`, UserView],
  ['PATCH', `${V1}/me`, UserView],
  ['GET', `${V1}/users`, Page<UserView>],
  ['POST', `${V1}/users`, UserView],
  ['GET', `${V1}/me/blocks`, Page<BlockView>],
  ['PUT', `${V1}/me/blocks/${string}`, BlockView],
  ['GET', `${V1}/users/${string}`, UserView],
  ['GET', `${V1}/reports`, Page<ReportView>],
  ['POST', `${V1}/reports/${string}/resolve`, ReportView],
  ['GET', `${V1}/reports/${string}`, ReportView],
  ['GET', `${V1}/moderation-log`, Page<LogEntryView>],
  ['GET', `${V1}/chats`, Page<ChatView>],
  ['POST', `${V1}/chats`, ChatView],
  [string, `${V1}/${string}/relationships/${string}`, unknown],
  ['GET', `${V1}/chats/${string}/messages/${string}/reactions/${string}/users`, Page<ReactionUserView>],
  ['PUT', `${V1}/chats/${string}/messages/${string}/reactions/${string}`, ReactionChangeView],
  ['DELETE', `${V1}/chats/${string}/messages/${string}/reactions/${string}`, null],
  ['GET', `${V1}/chats/${string}/messages/${string}/receipts`, Page<ReceiptView>],
  ['PUT', `${V1}/chats/${string}/messages/${string}/pin`, MessageView],
  ['DELETE', `${V1}/chats/${string}/messages/${string}/pin`, null],
  ['GET', `${V1}/chats/${string}/messages/${string}/thread`, Page<MessageView>],
  ['POST', `${V1}/chats/${string}/messages/${string}/thread/read`, ThreadReadView],
  ['POST', `${V1}/chats/${string}/messages/${string}/report`, ReportView],
  [string, `${V1}/chats/${string}/messages/${string}/${string}`, unknown],
  ['GET' | 'PATCH', `${V1}/chats/${string}/messages/${string}`, MessageView],
  ['GET', `${V1}/chats/${string}/messages`, Page<MessageView>],
  ['POST', `${V1}/chats/${string}/messages`, MessageView],
  ['POST', `${V1}/chats/${string}/members/${string}/mute`, MuteView],
  ['POST', `${V1}/chats/${string}/members/${string}/ban`, BanView],
  [string, `${V1}/chats/${string}/members/${string}/${string}`, unknown],
  ['GET' | 'PATCH', `${V1}/chats/${string}/members/${string}`, MemberView],
  ['GET', `${V1}/chats/${string}/members`, Page<MemberView>],
  ['POST', `${V1}/chats/${string}/members`, MemberView],
  ['POST', `${V1}/chats/${string}/read`, ReadView],
  ['GET', `${V1}/chats/${string}/pins`, Page<MessageView>],
  ['GET' | 'PATCH', `${V1}/chats/${string}/settings`, ChatSettingsView],
  ['DELETE', `${V1}/${string}`, null],
  ['GET', `${V1}/chats/${string}/bans`, Page<BanView>],
  ['GET', `${V1}/chats/${string}/moderation-log`, Page<LogEntryView>],
  [string, `${V1}/chats/${string}/${string}`, unknown],
  ['GET' | 'PATCH', `${V1}/chats/${string}`, ChatView],
  ['GET', `${V1}/unread`, UnreadView],
  ['GET', `${V1}/search/messages`, Page<SearchHitView>],
  ['GET', `/health/${string}`, HealthView],
  ['POST', '/dev/token', DevTokenView],
];

type Match<M extends string, P extends string, R> = R extends [
  [infer RM, infer RP, infer Body],
  ...infer Rest,
]
  ? M extends RM
    ? P extends RP
      ? Body
      : Match<M, P, Rest>
    : Match<M, P, Rest>
  : unknown;

/** What `method` on `url` answers when it succeeds; `unknown` for a URL built at run time (`string`). */
export type BodyOf<M extends string, U extends string> = string extends U
  ? unknown
  : Match<M, PathOf<U>, Routes>;
