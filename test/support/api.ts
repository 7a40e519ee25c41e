import type { ChatView } from '../../src/chats/chat.schema.ts';
import type { DevTokenView } from '../../src/demo/demo.schema.ts';
import type { ErrorCode } from '../../src/errors.ts';
import type { HealthView } from '../../src/health/health.routes.ts';
import type { MemberView } from '../../src/members/member.schema.ts';
import type { MessageView, ReadView, UnreadView } from '../../src/messages/message.schema.ts';
import type { SearchHitView } from '../../src/search/search.schema.ts';
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
  ChatView,
  DevTokenView,
  HealthView,
  MemberView,
  MessageView,
  ReadView,
  SearchHitView,
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

type GetBody<P extends string> = P extends `${string}/v1/me`
  ? UserView
  : P extends `${string}/v1/users`
    ? Page<UserView>
    : P extends `${string}/v1/users/${string}`
      ? UserView
      : P extends `${string}/v1/chats`
        ? Page<ChatView>
        : P extends `${string}/v1/chats/${string}/messages/${string}`
          ? MessageView
          : P extends `${string}/v1/chats/${string}/messages`
            ? Page<MessageView>
            : P extends `${string}/v1/chats/${string}/members/${string}`
              ? MemberView
              : P extends `${string}/v1/chats/${string}/members`
                ? Page<MemberView>
                : P extends `${string}/v1/chats/${string}/${string}`
                  ? unknown
                  : P extends `${string}/v1/chats/${string}`
                    ? ChatView
                    : P extends `${string}/v1/unread`
                      ? UnreadView
                      : P extends `${string}/v1/search/messages`
                        ? Page<SearchHitView>
                        : P extends `/health/${string}`
                          ? HealthView
                          : unknown;

type PostBody<P extends string> = P extends `${string}/v1/chats`
  ? ChatView
  : P extends `${string}/v1/users`
    ? UserView
    : P extends `${string}/v1/chats/${string}/messages`
      ? MessageView
      : P extends `${string}/v1/chats/${string}/members`
        ? MemberView
        : P extends `${string}/v1/chats/${string}/read`
          ? ReadView
          : P extends '/dev/token'
            ? DevTokenView
            : unknown;

type PatchBody<P extends string> = P extends `${string}/v1/me`
  ? UserView
  : P extends `${string}/v1/chats/${string}/messages/${string}`
    ? MessageView
    : P extends `${string}/v1/chats/${string}/members/${string}`
      ? MemberView
      : P extends `${string}/v1/chats/${string}/${string}`
        ? unknown
        : P extends `${string}/v1/chats/${string}`
          ? ChatView
          : unknown;

/** What `method` on `url` answers when it succeeds. */
export type BodyOf<M extends string, U extends string> = string extends U
  ? unknown
  : M extends 'GET'
    ? GetBody<PathOf<U>>
    : M extends 'POST'
      ? PostBody<PathOf<U>>
      : M extends 'PATCH'
        ? PatchBody<PathOf<U>>
        : M extends 'DELETE'
          ? PathOf<U> extends `${string}/v1/${string}`
            ? null
            : unknown
          : unknown;
