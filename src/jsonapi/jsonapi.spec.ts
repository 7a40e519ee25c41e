import type { FastifyRequest } from 'fastify';
import type { Context } from '../context.ts';
import type { Operation, ResourceType } from './jsonapi.fields.ts';

/** What a list route accepts in JSON:API terms, mapped onto its native query. */
export interface ListSpec {
  /**
   * The orders the list has, as `sort` values, each with what it sets in the native query (`{ seq: {} }` for a
   * list with one order; search: `-createdAt` → `sort=recent`). None: `sort` is refused.
   */
  sort?: Record<string, Record<string, string>>;
  /** Native filters, each accepted as `filter[name]`. */
  filters?: string[];
  /** `page[after]` / `page[before]`: the native `after` / `before` bounds (message history). */
  bounds?: boolean;
}

/** How a relationship in a request document fills the native body. */
export interface RelationshipInput {
  type: ResourceType;
  many?: boolean;
  /** The native field its id (or ids) go to. */
  field?: string;
  /** Turns an identifier's id into the native value (a message's id into its seq); null: no such resource. */
  resolve?: (request: FastifyRequest, ctx: Context, id: string) => Promise<unknown>;
  /** A relationship the URL (or the caller) already fixes: allowed only naming that resource. */
  fixed?: (request: FastifyRequest) => string;
}

/** How a request's resource document becomes the route's native body. */
export interface BodySpec {
  /**
   * `data.id`: absent, or refused (403, the server makes ids); with `field`, a client-chosen id the native body
   * takes; with `target`, required, naming the resource the URL names (409 otherwise; checked once params are valid).
   */
  id?: { field: string } | { target: (request: FastifyRequest, ctx: Context) => Promise<string> | string };
  /** JSON:API attribute → native field, where they differ. */
  rename?: Record<string, string>;
  relationships?: Record<string, RelationshipInput>;
  /** An attribute whose object value is the native body (the chat's `settings` for the settings route). */
  unwrap?: string;
}

/**
 * What the JSON:API layer knows about a route: its resource type and operation, what the handler returns, and how
 * to read JSON:API queries and bodies for it.
 */
export interface RouteSpec {
  type: ResourceType;
  operation: Operation;
  /**
   * `resource`: a view; `page`: `{data, nextCursor}` of views; `search`: a page of search hits (messages with their
   * highlight and rank in `meta`); `unread` / `read`: those views, rendered as partial chats; `document`: a JSON:API
   * document the handler built (the relationship endpoints); `reaction`: a reaction change, as the message it is on
   * with the emoji's count in `meta`; `reactors`: a page of who reacted, as users with `reactedAt` in `meta`;
   * `readers`: a page of who has read a message, as users with `lastReadSeq` and `lastReadAt` in `meta`;
   * `settings`: the caller's settings of a chat, as that chat with its `settings` attribute;
   * `threadRead`: a thread cursor, as the root message with the cursor in `meta.threadRead`.
   */
  returns:
    | 'resource'
    | 'page'
    | 'search'
    | 'unread'
    | 'read'
    | 'document'
    | 'reaction'
    | 'reactors'
    | 'readers'
    | 'settings'
    | 'threadRead';
  list?: ListSpec;
  body?: BodySpec;
  /** A JSON:API endpoint with no native representation: it answers JSON:API whatever the Accept header says. */
  only?: boolean;
}
