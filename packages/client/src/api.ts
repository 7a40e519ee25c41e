import { ParleyStream, type StreamOptions } from './stream.js';
import { sendUpload, type UploadAnswer, type UploadOptions } from './files.js';
import { resolveToken } from './token.js';
import type {
  AddMemberBody,
  BanBody,
  BanView,
  BlockView,
  ChatSettingsView,
  ChatView,
  CreateChatBody,
  CreateUserBody,
  EditMessageBody,
  ErrorBody,
  FileView,
  ErrorCode,
  HealthView,
  ListChatsQuery,
  ListMembersQuery,
  ListMessagesQuery,
  ListPinsQuery,
  ListReceiptsQuery,
  ListReactionUsersQuery,
  ListReportsQuery,
  LogEntryView,
  ModerationPageQuery,
  MuteBody,
  MuteView,
  ListUsersQuery,
  MemberView,
  MessageView,
  Page,
  ReactionChangeView,
  ReactionUserView,
  ReadView,
  ReceiptView,
  ReportView,
  ResolveReportBody,
  SearchHitView,
  SearchMessagesQuery,
  SendMessageBody,
  TenantLogQuery,
  ThreadReadView,
  TokenSource,
  UnreadView,
  UpdateChatBody,
  UpdateChatSettingsBody,
  UpdateMeBody,
  UpdateMemberBody,
  UserView,
} from './types.js';

/** The fetch this client needs: the platform's own (browsers, Node 20+) or any compatible one. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** Where Parley is mounted: `http://localhost:3000`, or `https://example.com/chat` for a prefix. */
  baseUrl: string;
  token: TokenSource;
  fetch?: FetchLike;
  /** Sent with every request, beside the token. */
  headers?: Record<string, string>;
}

type Query = Record<string, string | number | boolean | undefined>;

/**
 * A failed call: the API's error (`status`, a stable `code`, its message and details), or `network` when no answer
 * came at all (`status` 0).
 */
export class ParleyError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network' | 'unexpected_response',
    message: string,
    readonly details?: unknown[],
  ) {
    super(message);
    this.name = 'ParleyError';
  }
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== 'object' || body === null || !('error' in body)) {
    return false;
  }
  const error = (body as { error: unknown }).error;
  return typeof error === 'object' && error !== null && 'code' in error && 'message' in error;
}

const id = (value: string) => encodeURIComponent(value);

/** The native API (README, "API overview"), one typed method per route. */
export class ParleyClient {
  readonly baseUrl: string;
  private readonly token: TokenSource;
  private readonly fetcher: FetchLike;
  /** A fetch was given: uploads use it too, never XMLHttpRequest. */
  private readonly ownFetch: boolean;
  private readonly headers: Record<string, string>;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    // Called as a plain function: a browser's fetch refuses to run as a method of another object.
    this.fetcher = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.ownFetch = options.fetch !== undefined;
    this.headers = options.headers ?? {};
  }

  /** One call: the parsed JSON answer of a 2xx (undefined for 204), else a ParleyError. */
  async request<T>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown } = {},
  ): Promise<T> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) {
        url.searchParams.set(key, String(value));
      }
    }
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...this.headers,
      authorization: `Bearer ${await resolveToken(this.token)}`,
    };
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
    }
    let response: Response;
    try {
      response = await this.fetcher(url.href, {
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
    } catch (error) {
      throw new ParleyError(0, 'network', `${method} ${path}: ${(error as Error).message}`);
    }
    if (response.status === 204) {
      return undefined as T;
    }
    return this.answer<T>(method, path, response.status, response.ok, await response.text());
  }

  /** A 2xx's parsed JSON, else the API's error (or an unexpected answer) as a ParleyError. */
  private answer<T>(method: string, path: string, status: number, ok: boolean, text: string): T {
    let body: unknown = null;
    try {
      body = text === '' ? null : (JSON.parse(text) as unknown);
    } catch {
      // not JSON: reported below
    }
    if (ok && body !== null) {
      return body as T;
    }
    if (isErrorBody(body)) {
      throw new ParleyError(status, body.error.code, body.error.message, body.error.details);
    }
    throw new ParleyError(
      status,
      'unexpected_response',
      `${method} ${path}: HTTP ${status} ${text.slice(0, 200)}`,
    );
  }

  /** Every item of a list, page after page: `for await (const chat of client.all((c) => client.listChats(c)))`. */
  async *all<T>(page: (query: { cursor?: string }) => Promise<Page<T>>): AsyncGenerator<T> {
    let cursor: string | undefined;
    do {
      const result = await page(cursor === undefined ? {} : { cursor });
      yield* result.data;
      cursor = result.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** A real-time stream as this client's user (README, "Real-time stream"); call `connect()` on it. */
  stream(options: Omit<StreamOptions, 'baseUrl' | 'token'> = {}): ParleyStream {
    return new ParleyStream({ ...options, baseUrl: this.baseUrl, token: this.token });
  }

  // ---- users ---------------------------------------------------------------------------------------------------

  me(): Promise<UserView> {
    return this.request('GET', '/v1/me');
  }

  updateMe(body: UpdateMeBody): Promise<UserView> {
    return this.request('PATCH', '/v1/me', { body });
  }

  /** Tenant administrators only. */
  createUser(body: CreateUserBody): Promise<UserView> {
    return this.request('POST', '/v1/users', { body });
  }

  listUsers(query: ListUsersQuery = {}): Promise<Page<UserView>> {
    return this.request('GET', '/v1/users', { query });
  }

  /** A deleted user is still found (their messages name them): `deletedAt` set, the personal fields erased. */
  getUser(userId: string): Promise<UserView> {
    return this.request('GET', `/v1/users/${id(userId)}`);
  }

  /** Deletes the caller's own user for good: this client's token is refused (401) from then on. */
  deleteMe(): Promise<void> {
    return this.request('DELETE', '/v1/me');
  }

  /** Tenant administrators (or the user themself): deletes the user for good. */
  deleteUser(userId: string): Promise<void> {
    return this.request('DELETE', `/v1/users/${id(userId)}`);
  }

  // ---- chats ---------------------------------------------------------------------------------------------------

  /** A group (the caller owns it), or the direct chat with `members[0]` (the existing one if there is one). */
  createChat(body: CreateChatBody): Promise<ChatView> {
    return this.request('POST', '/v1/chats', { body });
  }

  /** The caller's chats, most recent activity first, each with its unread count and last message. */
  listChats(query: ListChatsQuery = {}): Promise<Page<ChatView>> {
    return this.request('GET', '/v1/chats', { query });
  }

  getChat(chatId: string): Promise<ChatView> {
    return this.request('GET', `/v1/chats/${id(chatId)}`);
  }

  updateChat(chatId: string, body: UpdateChatBody): Promise<ChatView> {
    return this.request('PATCH', `/v1/chats/${id(chatId)}`, { body });
  }

  deleteChat(chatId: string): Promise<void> {
    return this.request('DELETE', `/v1/chats/${id(chatId)}`);
  }

  /** Your own settings of a chat: mute, archive, hide. */
  getChatSettings(chatId: string): Promise<ChatSettingsView> {
    return this.request('GET', `/v1/chats/${id(chatId)}/settings`);
  }

  /** Change only the settings given; your other devices hear `settings.updated`. */
  updateChatSettings(chatId: string, body: UpdateChatSettingsBody): Promise<ChatSettingsView> {
    return this.request('PATCH', `/v1/chats/${id(chatId)}/settings`, { body });
  }

  // ---- members -------------------------------------------------------------------------------------------------

  listMembers(chatId: string, query: ListMembersQuery = {}): Promise<Page<MemberView>> {
    return this.request('GET', `/v1/chats/${id(chatId)}/members`, { query });
  }

  addMember(chatId: string, body: AddMemberBody): Promise<MemberView> {
    return this.request('POST', `/v1/chats/${id(chatId)}/members`, { body });
  }

  getMember(chatId: string, userId: string): Promise<MemberView> {
    return this.request('GET', `/v1/chats/${id(chatId)}/members/${id(userId)}`);
  }

  updateMember(chatId: string, userId: string, body: UpdateMemberBody): Promise<MemberView> {
    return this.request('PATCH', `/v1/chats/${id(chatId)}/members/${id(userId)}`, { body });
  }

  /** Leave (your own id) or remove someone. */
  removeMember(chatId: string, userId: string): Promise<void> {
    return this.request('DELETE', `/v1/chats/${id(chatId)}/members/${id(userId)}`);
  }

  // ---- messages ------------------------------------------------------------------------------------------------

  /** With a `clientId`, a retry of the same send answers the first message instead of sending it again. */
  sendMessage(chatId: string, body: SendMessageBody): Promise<MessageView> {
    return this.request('POST', `/v1/chats/${id(chatId)}/messages`, { body });
  }

  // ---- files (docs/files.md) -----------------------------------------------------------------------------------

  /**
   * Uploads a file (a Blob or File) to a chat, streamed: in browsers through XMLHttpRequest (upload progress), else
   * through fetch with a streamed body counted as it is sent. Send it with a message: `attachments: [file.id]`.
   */
  async uploadFile(chatId: string, file: Blob, options: UploadOptions = {}): Promise<FileView> {
    const path = `/v1/chats/${id(chatId)}/files`;
    const headers = {
      accept: 'application/json',
      ...this.headers,
      authorization: `Bearer ${await resolveToken(this.token)}`,
    };
    let answer: UploadAnswer;
    try {
      answer = await sendUpload(
        { url: `${this.baseUrl}${path}`, headers, file, options },
        this.fetcher,
        this.ownFetch,
      );
    } catch (error) {
      throw new ParleyError(0, 'network', `POST ${path}: ${(error as Error).message}`);
    }
    return this.answer<FileView>('POST', path, answer.status, answer.status < 300, answer.text);
  }

  /** A file of one of your chats, with a fresh signed link (`url`, valid until `urlExpiresAt`). */
  getFile(fileId: string): Promise<FileView> {
    return this.request('GET', `/v1/files/${id(fileId)}`);
  }

  /** A file's signed link as an absolute URL: for `<img src>`, a link, or a fetch without a token. */
  fileUrl(file: Pick<FileView, 'url'>): string {
    return new URL(file.url, `${this.baseUrl}/`).href;
  }

  /** Ascending by seq: `after` pages forward; `before`, or neither, pages back from the end. */
  listMessages(chatId: string, query: ListMessagesQuery = {}): Promise<Page<MessageView>> {
    return this.request('GET', `/v1/chats/${id(chatId)}/messages`, { query });
  }

  getMessage(chatId: string, seq: number): Promise<MessageView> {
    return this.request('GET', `/v1/chats/${id(chatId)}/messages/${seq}`);
  }

  editMessage(chatId: string, seq: number, body: EditMessageBody): Promise<MessageView> {
    return this.request('PATCH', `/v1/chats/${id(chatId)}/messages/${seq}`, { body });
  }

  deleteMessage(chatId: string, seq: number): Promise<void> {
    return this.request('DELETE', `/v1/chats/${id(chatId)}/messages/${seq}`);
  }

  /** React with an emoji (adding the same one again changes nothing). */
  addReaction(chatId: string, seq: number, emoji: string): Promise<ReactionChangeView> {
    return this.request('PUT', `/v1/chats/${id(chatId)}/messages/${seq}/reactions/${id(emoji)}`);
  }

  /** Take back a reaction (none to take back is no error). */
  removeReaction(chatId: string, seq: number, emoji: string): Promise<void> {
    return this.request('DELETE', `/v1/chats/${id(chatId)}/messages/${seq}/reactions/${id(emoji)}`);
  }

  /** Who reacted to a message with an emoji, first first. */
  listReactionUsers(
    chatId: string,
    seq: number,
    emoji: string,
    query: ListReactionUsersQuery = {},
  ): Promise<Page<ReactionUserView>> {
    return this.request('GET', `/v1/chats/${id(chatId)}/messages/${seq}/reactions/${id(emoji)}/users`, {
      query,
    });
  }

  /** Pin a message (a group's owners and admins; both members of a direct chat). Pinning again changes nothing. */
  pinMessage(chatId: string, seq: number): Promise<MessageView> {
    return this.request('PUT', `/v1/chats/${id(chatId)}/messages/${seq}/pin`);
  }

  /** Unpin a message (one that is not pinned is no error). */
  unpinMessage(chatId: string, seq: number): Promise<void> {
    return this.request('DELETE', `/v1/chats/${id(chatId)}/messages/${seq}/pin`);
  }

  /** The chat's pinned messages, newest pin first. */
  listPins(chatId: string, query: ListPinsQuery = {}): Promise<Page<MessageView>> {
    return this.request('GET', `/v1/chats/${id(chatId)}/pins`, { query });
  }

  /** Who has read a message (members other than its author), for chats within the receipts limit. */
  listReceipts(chatId: string, seq: number, query: ListReceiptsQuery = {}): Promise<Page<ReceiptView>> {
    return this.request('GET', `/v1/chats/${id(chatId)}/messages/${seq}/receipts`, { query });
  }

  /** Reply in the thread under message `root` (`alsoInChat`: shown in the chat's main history too). */
  sendThreadReply(
    chatId: string,
    root: number,
    body: Omit<SendMessageBody, 'threadRoot'>,
  ): Promise<MessageView> {
    return this.sendMessage(chatId, { ...body, threadRoot: root });
  }

  /** The replies in the thread under message `root`, paged like `listMessages`. */
  listThreadMessages(
    chatId: string,
    root: number,
    query: ListMessagesQuery = {},
  ): Promise<Page<MessageView>> {
    return this.request('GET', `/v1/chats/${id(chatId)}/messages/${root}/thread`, { query });
  }

  /** Moves the caller's cursor in the thread under `root` forward to `seq` (participants only have one). */
  markThreadRead(chatId: string, root: number, seq: number): Promise<ThreadReadView> {
    return this.request('POST', `/v1/chats/${id(chatId)}/messages/${root}/thread/read`, { body: { seq } });
  }

  /** Moves the caller's read cursor forward to `seq` (never back). */
  markRead(chatId: string, seq: number): Promise<ReadView> {
    return this.request('POST', `/v1/chats/${id(chatId)}/read`, { body: { seq } });
  }

  unread(): Promise<UnreadView> {
    return this.request('GET', '/v1/unread');
  }

  // ---- moderation (docs/moderation.md) --------------------------------------------------------------------------

  /** Mute a member of a group (owners, admins, tenant administrators): their sends are refused until `until`. */
  muteMember(chatId: string, userId: string, body: MuteBody = {}): Promise<MuteView> {
    return this.request('POST', `/v1/chats/${id(chatId)}/members/${id(userId)}/mute`, { body });
  }

  unmuteMember(chatId: string, userId: string): Promise<void> {
    return this.request('DELETE', `/v1/chats/${id(chatId)}/members/${id(userId)}/mute`);
  }

  /** Ban a user from a group: removed, and not added again until unbanned. */
  banMember(chatId: string, userId: string, body: BanBody = {}): Promise<BanView> {
    return this.request('POST', `/v1/chats/${id(chatId)}/members/${id(userId)}/ban`, { body });
  }

  unbanMember(chatId: string, userId: string): Promise<void> {
    return this.request('DELETE', `/v1/chats/${id(chatId)}/members/${id(userId)}/ban`);
  }

  listBans(chatId: string, query: ModerationPageQuery = {}): Promise<Page<BanView>> {
    return this.request('GET', `/v1/chats/${id(chatId)}/bans`, { query });
  }

  /** A chat's moderation log, newest first (its owners and admins, tenant administrators). */
  chatModerationLog(chatId: string, query: ModerationPageQuery = {}): Promise<Page<LogEntryView>> {
    return this.request('GET', `/v1/chats/${id(chatId)}/moderation-log`, { query });
  }

  /** The tenant's moderation log, newest first (tenant administrators). */
  moderationLog(query: TenantLogQuery = {}): Promise<Page<LogEntryView>> {
    return this.request('GET', '/v1/moderation-log', { query });
  }

  /** Block a user: no new direct chat from them, their direct messages refused. */
  blockUser(userId: string): Promise<BlockView> {
    return this.request('PUT', `/v1/me/blocks/${id(userId)}`);
  }

  unblockUser(userId: string): Promise<void> {
    return this.request('DELETE', `/v1/me/blocks/${id(userId)}`);
  }

  listBlocks(query: ModerationPageQuery = {}): Promise<Page<BlockView>> {
    return this.request('GET', '/v1/me/blocks', { query });
  }

  /** Report a message to the tenant's administrators (once per message). */
  reportMessage(chatId: string, seq: number, reason: string): Promise<ReportView> {
    return this.request('POST', `/v1/chats/${id(chatId)}/messages/${seq}/report`, { body: { reason } });
  }

  /** Reports, oldest first (tenant administrators). */
  listReports(query: ListReportsQuery = {}): Promise<Page<ReportView>> {
    return this.request('GET', '/v1/reports', { query });
  }

  getReport(reportId: string): Promise<ReportView> {
    return this.request('GET', `/v1/reports/${id(reportId)}`);
  }

  /** Act on a report (tenant administrators): every open report of the message is resolved with it. */
  resolveReport(reportId: string, body: ResolveReportBody): Promise<ReportView> {
    return this.request('POST', `/v1/reports/${id(reportId)}/resolve`, { body });
  }

  // ---- search and health ---------------------------------------------------------------------------------------

  searchMessages(query: SearchMessagesQuery): Promise<Page<SearchHitView>> {
    return this.request('GET', '/v1/search/messages', { query });
  }

  /** `GET /health/ready`: resolves when the server and its database answer, else throws (503). */
  ready(): Promise<HealthView> {
    return this.request('GET', '/health/ready');
  }
}
