import type { FastifyRequest } from 'fastify';
import { actorOf } from '../auth/auth.hook.ts';
import type { Context } from '../context.ts';
import type { MessageView, ReadView, ThreadReadView, UnreadView } from '../messages/message.schema.ts';
import type { ReactionChangeView, ReactionUserView } from '../messages/reaction.schema.ts';
import type { ReceiptView } from '../messages/receipt.schema.ts';
import type { Page } from '../pagination.ts';
import type { SearchHitView } from '../search/search.schema.ts';
import {
  Compound,
  nodeOf,
  pickAttributes,
  type Document,
  type Links,
  type Presentation,
  type ResourceObject,
} from './jsonapi.document.ts';
import { Loader } from './jsonapi.loader.ts';
import type { ParsedQuery } from './jsonapi.query.ts';
import { chatPath, type AnyView } from './jsonapi.resources.ts';
import type { RouteSpec } from './jsonapi.spec.ts';

export const EMPTY_QUERY: ParsedQuery = {
  include: { children: new Map() },
  fields: new Map(),
  native: {},
  names: new Map(),
  carried: [],
  position: {},
};

/** The links of the request being answered: where they start, the request's own URL, and the same path with a query. */
export interface RequestLinks {
  base(request: FastifyRequest): string;
  selfLink(request: FastifyRequest): string;
  link(request: FastifyRequest, parameters: [string, string][]): string;
}

/** A native route's view (from the same presenters) as a JSON:API document: resources, pages, unread, read. */
export class Renderer {
  constructor(
    private readonly ctx: Context,
    private readonly presentation: Presentation,
    private readonly links: RequestLinks,
  ) {}

  async render(
    request: FastifyRequest,
    spec: RouteSpec,
    query: ParsedQuery,
    payload: unknown,
  ): Promise<Document> {
    const options = {
      base: this.links.base(request),
      include: query.include,
      fields: query.fields,
      loader: new Loader(this.ctx, actorOf(request)),
      presentation: this.presentation,
    };
    const including = query.include.children.size > 0;
    const document: Document = { jsonapi: { version: '1.0' } };
    if (spec.returns === 'resource') {
      const { data, included } = await new Compound(options).build([nodeOf(spec.type, payload as AnyView)]);
      document.data = data[0] ?? null;
      if (including) {
        document.included = included;
      }
      document.links = { self: this.links.selfLink(request) };
    } else if (spec.returns === 'page' || spec.returns === 'search') {
      const page = payload as Page<AnyView | SearchHitView>;
      const nodes = page.data.map((item) =>
        spec.returns === 'search'
          ? {
              ...nodeOf(spec.type, (item as SearchHitView).message),
              meta: { highlight: (item as SearchHitView).highlight, rank: (item as SearchHitView).rank },
            }
          : nodeOf(spec.type, item as AnyView),
      );
      const { data, included } = await new Compound(options).build(nodes);
      document.data = data;
      if (including) {
        document.included = included;
      }
      document.links = this.pageLinks(request, spec, query, page);
    } else if (spec.returns === 'unread') {
      const unread = payload as UnreadView;
      document.data = unread.chats.map(({ chatId, unreadCount, lastReadSeq, ...state }) => ({
        ...this.partialChat(request, query, chatId, { unreadCount, lastReadSeq }),
        meta: state,
      }));
      document.meta = { total: unread.total, mentionTotal: unread.mentionTotal, threads: unread.threads };
      document.links = { self: this.links.selfLink(request) };
    } else if (spec.returns === 'read') {
      const read = payload as ReadView;
      const chatId = (request.params as { id: string }).id;
      document.data = this.partialChat(request, query, chatId, {
        lastReadSeq: read.lastReadSeq,
        unreadCount: read.unreadCount,
      });
      document.links = { self: this.links.selfLink(request) };
    } else if (spec.returns === 'settings') {
      const chatId = (request.params as { id: string }).id;
      document.data = this.partialChat(request, query, chatId, { settings: payload });
      document.links = { self: this.links.selfLink(request) };
    } else if (spec.returns === 'reaction') {
      const { messageId, emoji, count, me } = payload as ReactionChangeView;
      document.data = { type: 'messages', id: messageId, meta: { reaction: { emoji, count, me } } };
      document.links = { self: this.links.selfLink(request) };
    } else if (spec.returns === 'threadRead') {
      const { messageId, ...threadRead } = payload as ThreadReadView;
      document.data = { type: 'messages', id: messageId, meta: { threadRead } };
      document.links = { self: this.links.selfLink(request) };
    } else if (spec.returns === 'reactors') {
      const page = payload as Page<ReactionUserView>;
      document.data = page.data.map((user) => ({
        type: 'users',
        id: user.userId,
        meta: { reactedAt: user.reactedAt },
      }));
      document.links = this.pageLinks(request, spec, query, page);
    } else if (spec.returns === 'readers') {
      const page = payload as Page<ReceiptView>;
      document.data = page.data.map(({ userId, lastReadSeq, lastReadAt }) => ({
        type: 'users',
        id: userId,
        meta: { lastReadSeq, lastReadAt },
      }));
      document.links = this.pageLinks(request, spec, query, page);
    }
    return reorder(document);
  }

  /** A chat seen only through the caller's read state (the unread summary, a read receipt). */
  private partialChat(
    request: FastifyRequest,
    query: ParsedQuery,
    chatId: string,
    values: Record<string, unknown>,
  ): ResourceObject {
    const attributes = pickAttributes(this.presentation, 'chats', values, query.fields.get('chats'));
    return {
      type: 'chats',
      id: chatId,
      ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
      links: { self: this.links.base(request) + chatPath(chatId) },
    };
  }

  /**
   * first / next / prev. Keyset lists page forward only (`prev` is null). Message history pages by seq both ways:
   * `page[after]` reads forward and `page[before]` (or neither: the latest page) backward, so its links do too.
   */
  private pageLinks(
    request: FastifyRequest,
    spec: RouteSpec,
    query: ParsedQuery,
    page: Page<unknown>,
  ): Links {
    const at = (position: [string, string][]) => this.links.link(request, [...query.carried, ...position]);
    const links: Links = { self: this.links.selfLink(request), first: at([]) };
    if (!spec.list?.bounds || query.position.cursor !== undefined) {
      links.next = page.nextCursor !== null ? at([['page[cursor]', page.nextCursor]]) : null;
      links.prev = null;
      return links;
    }
    const seqs = (page.data as MessageView[]).map((message) => message.seq);
    const first = seqs[0];
    const last = seqs[seqs.length - 1];
    const { after, before } = query.position;
    const more = page.nextCursor !== null;
    if (after !== undefined) {
      const within: [string, string][] = before !== undefined ? [['page[before]', before]] : [];
      links.next = more && last !== undefined ? at([['page[after]', String(last)], ...within]) : null;
      links.prev = first !== undefined && first > 1 ? at([['page[before]', String(first)]]) : null;
    } else {
      links.next = more && first !== undefined ? at([['page[before]', String(first)]]) : null;
      links.prev = before !== undefined && last !== undefined ? at([['page[after]', String(last)]]) : null;
    }
    return links;
  }
}

/** data, included, links, meta, then jsonapi: the order readers expect. */
function reorder(document: Document): Document {
  const { jsonapi, ...rest } = document;
  return { ...rest, jsonapi };
}
