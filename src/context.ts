import type { FastifyBaseLogger } from 'fastify';
import type { Files } from './attachments/file.service.ts';
import type { Kysely } from 'kysely';
import type { Database } from './db/database.ts';
import type { HistoryCache } from './messages/history.cache.ts';
import type { MessageBatcher } from './messages/message.batcher.ts';
import type { EventSink } from './events.ts';
import type { KnownUsers } from './users/user.service.ts';

/** What every service function is given: the database, limits, the event sink and a logger. No request, no reply. */
export interface Context {
  db: Kysely<Database>;
  limits: Limits;
  events: EventSink;
  log: FastifyBaseLogger;
  /**
   * Group commit for sends: the only way a message is written. It writes on connections of its own, never inside a
   * transaction that `db` may be.
   */
  sends: MessageBatcher;
  /** History pages at the state they were read at (`PARLEY_HISTORY_CACHE_MB`); without it every page is read. */
  history?: HistoryCache;
  /**
   * The users this process has provisioned, so that a request costs no lookup; a deletion forgets its user here at
   * once (and on the other processes when they hear `user.deleted`). Without it every request looks its user up.
   */
  knownUsers?: KnownUsers;
  /** Uploaded files' store and configuration (docs/files.md); without it uploads and downloads answer 503. */
  files?: Files;
  /** Webhooks (docs/webhooks.md): the rules their routes check, and how to tell the delivery worker of a change. */
  webhooks?: WebhookSettings;
  /**
   * The "before send" hook (docs/webhooks.md): given a send about to be written, the text to write (the same or
   * rewritten), or an `AppError` thrown (rejected, or the backend unreachable with the refusing policy). Unset: none.
   */
  beforeSend?: (send: BeforeSend) => Promise<string>;
}

/** A send as the "before send" hook sees it. */
export interface BeforeSend {
  tenantId: string;
  chatId: string;
  authorId: string;
  text: string;
  clientId: string | null;
  replyTo: number | null;
  threadRoot: number | null;
}

export interface WebhookSettings {
  /** Most subscriptions one tenant may have. */
  perTenant: number;
  /** Plain http:// targets beyond this machine. */
  allowHttp: boolean;
  /** Subscriptions changed: the worker reads which tenants have one again. */
  changed(): void;
}

/** The service limits (docs/operations.md, "Limits"); set by `PARLEY_BODY_LIMIT` and `PARLEY_MAX_*`. */
export interface Limits {
  /** Largest accepted request body, in bytes. */
  bodyBytes: number;
  /** Longest message text, in characters. */
  messageChars: number;
  /** Most members one chat may have, its creator included. */
  chatMembers: number;
  /** Most live chats one user may be a member of (Infinity: no limit, for a dialect's system user). */
  chatsPerUser: number;
  /** Most distinct emoji one message may carry as reactions. */
  reactionsPerMessage: number;
  /** Most pinned messages one chat may have. */
  pinsPerChat: number;
  /** Largest chat (in members) whose read receipts are shown and whose cursor moves are told to every member. */
  receiptsMaxMembers: number;
}
