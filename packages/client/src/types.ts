// The native API's types, the client's own: it carries nothing of the server (queries are type aliases, which fit
// `request`'s query parameter). The server's test suite checks that
// each is exactly the server's type (the TypeBox schemas' static types and the stream's event map), so they
// cannot drift apart.

/** A bearer token, or a function that returns a fresh one (called for every request and every connection). */
export type TokenSource = string | (() => string | Promise<string>);

// ---- errors and pages ------------------------------------------------------------------------------------------

/** The stable code of every error the API answers with. */
export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'not_acceptable'
  | 'request_timeout'
  | 'conflict'
  | 'limit_exceeded'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'upgrade_required'
  | 'rate_limited'
  | 'headers_too_large'
  | 'internal'
  | 'unavailable';

/** The body of every error answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown[] };
}

/** One page of a list; pass `nextCursor` as `cursor` for the next one (null: this was the last). */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** `GET /health/ready`. */
export interface HealthView {
  status: string;
  database?: string;
}

// ---- users -----------------------------------------------------------------------------------------------------

export type UserStatus = 'online' | 'busy' | 'offline';

/** Timestamps are ISO 8601 strings. */
export interface UserView {
  id: string;
  /** `deleted-user` for a deleted user. */
  username: string;
  /** `Deleted user` for a deleted user. */
  displayName: string | null;
  status: UserStatus;
  statusText: string | null;
  createdAt: string;
  /** When the user was deleted (their personal fields are erased), or null. */
  deletedAt: string | null;
}

export interface CreateUserBody {
  /** 1 to 128 characters; generated when left out. */
  id?: string;
  /** 1 to 64 letters, digits and `. _ @ + -`; unique per tenant, case-insensitively. */
  username: string;
  displayName?: string;
}

/** At least one field. */
export interface UpdateMeBody {
  displayName?: string | null;
  status?: UserStatus;
  statusText?: string | null;
}

export type ListUsersQuery = {
  /** Exactly this username (case-insensitively). */
  username?: string;
  /** Users whose username or display name contains this, or whose id it is. */
  q?: string;
  cursor?: string;
  /** 1 to 200. */
  limit?: number;
};

// ---- chats and members -----------------------------------------------------------------------------------------

export type ChatKind = 'direct' | 'group';
export type ChatVisibility = 'public' | 'private';
export type Role = 'owner' | 'admin' | 'member';

export interface MessageView {
  id: string;
  chatId: string;
  /** The message's place in its chat: 1, 2, 3… with no gaps. */
  seq: number;
  authorId: string;
  /** Null once deleted. */
  text: string | null;
  replyTo: number | null;
  clientId: string | null;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  /** A thread reply: the seq of the top-level message whose thread it is in. */
  threadRoot: number | null;
  /** A thread reply also shown in the chat's main history; false for every other message. */
  alsoInChat: boolean;
  /** The thread under this message, once it has had a reply. */
  thread: ThreadSummary | null;
  /**
   * The emoji members reacted with, first reacted first; empty for a deleted message. On history pages, single
   * messages and edits; absent where not loaded (a send's answer, a chat's lastMessage, search hits, stream events).
   */
  reactions?: ReactionView[];
  /**
   * When the message was pinned, and by whom; both null when it is not pinned. On history pages, single messages,
   * edits, deletes and the pins list; absent where not loaded (a send's answer and `message.created`, a chat's
   * lastMessage, search hits).
   */
  pinnedAt?: string | null;
  pinnedBy?: string | null;
  /**
   * The members the text names (`@username`), by id, resolved when sent or last edited; empty for a deleted
   * message. On sends, edits, single messages, history pages, message events and replays; absent where not loaded.
   */
  mentions?: string[];
  /** `@all` by an owner or admin: everyone in the chat is mentioned. */
  mentionsAll?: boolean;
  /** `@here` by an owner or admin: the members online when it was sent are mentioned. */
  mentionsHere?: boolean;
  /** The files sent with the message; present only when it has any and is not deleted. */
  attachments?: MessageFile[];
}

/** A file a message carries. `GET /v1/files/{id}` (`client.getFile`) gives a download link for it. */
export interface MessageFile {
  id: string;
  /** As uploaded, sanitized. */
  name: string;
  /** Read from the bytes for images (png, jpeg, gif, webp: shown inline); else as declared, when accepted. */
  contentType: string;
  size: number;
  width: number | null;
  height: number | null;
}

/** An uploaded file with a short-lived signed download link (usable as `<img src>`, no token). */
export interface FileView extends MessageFile {
  chatId: string;
  /** The message it was sent with; null until sent. */
  messageId: string | null;
  sha256: string;
  createdBy: string;
  createdAt: string;
  /** A path on the server: resolve it against the base URL. */
  url: string;
  urlExpiresAt: string;
}

/** The thread under a message: its live replies, when the last came, its first participants (root author first). */
export interface ThreadSummary {
  replyCount: number;
  lastReplyAt: string;
  /** At most 10 user ids. */
  participants: string[];
}

/** A thread's summary on its root changed: after the reply (`replySeq`) that was sent or deleted. */
export interface ThreadUpdatedPayload {
  chatId: string;
  /** The root's seq. */
  seq: number;
  messageId: string;
  replySeq: number;
  thread: ThreadSummary;
}

/** One emoji on a message: how many members reacted with it, and whether the caller is one of them. */
export interface ReactionView {
  emoji: string;
  count: number;
  me: boolean;
}

/** The caller's reaction after `addReaction`: the emoji's count on the message now. */
export interface ReactionChangeView {
  chatId: string;
  seq: number;
  messageId: string;
  emoji: string;
  count: number;
  me: boolean;
}

/** A member who reacted with an emoji, and when. */
export interface ReactionUserView {
  userId: string;
  reactedAt: string;
}

export type ListReactionUsersQuery = {
  cursor?: string;
  /** 1 to 200. */
  limit?: number;
};

/** A reaction added or taken back: `count` is the emoji's count on the message now (0 when none is left). */
export interface ReactionEventPayload {
  chatId: string;
  seq: number;
  messageId: string;
  emoji: string;
  userId: string;
  count: number;
  /** The change's place in the chat's change log. */
  rev: number;
}

/** A member who has read a message: their read cursor is at its seq or past it. */
export interface ReceiptView {
  userId: string;
  lastReadSeq: number;
  /** When the cursor last moved (the member had read the message by then); null when not known. */
  lastReadAt: string | null;
}

export type ListReceiptsQuery = {
  cursor?: string;
  /** 1 to 200. */
  limit?: number;
};

export type ListPinsQuery = {
  cursor?: string;
  /** 1 to 200. */
  limit?: number;
};

/** A message pinned: by `pinnedBy`, at `pinnedAt`. */
export interface PinnedEventPayload {
  chatId: string;
  seq: number;
  messageId: string;
  pinnedBy: string;
  pinnedAt: string;
  /** The change's place in the chat's change log. */
  rev: number;
}

/** A message unpinned, by `userId`. */
export interface UnpinnedEventPayload {
  chatId: string;
  seq: number;
  messageId: string;
  userId: string;
  /** The change's place in the chat's change log. */
  rev: number;
}

// ---- moderation (docs/moderation.md) ------------------------------------------------------------------------------

/** A member muted in a group: their messages are refused until `until` (null: until unmuted). */
export interface MuteView {
  chatId: string;
  userId: string;
  until: string | null;
  reason: string | null;
  mutedBy: string;
  createdAt: string;
}

export type MuteBody = {
  /** When the mute ends, in the future; absent: until unmuted. */
  until?: string;
  /** 1 to 1000 characters. */
  reason?: string;
};

/** A user banned from a group: removed from it, and not added again until unbanned. */
export interface BanView {
  chatId: string;
  userId: string;
  reason: string | null;
  bannedBy: string;
  createdAt: string;
}

export type BanBody = {
  reason?: string;
};

/** A user the caller blocks. */
export interface BlockView {
  userId: string;
  createdAt: string;
}

export type ReportStatus = 'open' | 'resolved';
export type ReportAction = 'delete_message' | 'mute_author' | 'ban_author' | 'dismiss';

/** A member's report of a message. */
export interface ReportView {
  id: string;
  chatId: string;
  seq: number;
  reporterId: string;
  authorId: string;
  reason: string;
  /** The reported message's text as it is now; null once the message is deleted. */
  text: string | null;
  status: ReportStatus;
  action: ReportAction | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  createdAt: string;
}

export type ListReportsQuery = {
  status?: ReportStatus;
  chatId?: string;
  cursor?: string;
  /** 1 to 200. */
  limit?: number;
};

export type ResolveReportBody = {
  action: ReportAction;
  reason?: string;
  /** mute_author only: when the mute ends. */
  until?: string;
};

/** One moderation action: who did what to whom, when and why. */
export interface LogEntryView {
  id: string;
  chatId: string | null;
  actorId: string;
  /** `mute`, `unmute`, `ban`, `unban`, `report`, `delete_message` or `dismiss_report`. */
  action: string;
  targetUserId: string | null;
  seq: number | null;
  reportId: string | null;
  reason: string | null;
  until: string | null;
  at: string;
}

export type ModerationPageQuery = {
  cursor?: string;
  /** 1 to 200. */
  limit?: number;
};

export type TenantLogQuery = {
  chatId?: string;
  cursor?: string;
  /** 1 to 200. */
  limit?: number;
};

/** A chat as the caller sees it: with their unread count, read cursor and role. */
export interface ChatView {
  id: string;
  /** The chat's number in its tenant. */
  number: number;
  kind: ChatKind;
  name: string | null;
  topic: string | null;
  visibility: ChatVisibility;
  createdBy: string;
  createdAt: string;
  lastMessageAt: string | null;
  messageCount: number;
  memberCount: number;
  lastMessage?: MessageView | null;
  unreadCount: number;
  lastReadSeq: number;
  /** Null when the caller is not a member (say, a public group seen from outside). */
  role: Role | null;
  /** The caller's own settings of the chat. */
  settings: ChatSettingsView;
}

/** Your own settings of a chat; nobody else sees them. */
export interface ChatSettingsView {
  /** Notifications muted now (mentions still reach you). */
  muted: boolean;
  /** When the mute ends; null when not muted, or muted until you unmute. */
  mutedUntil: string | null;
  /** Left out of the chat list (unless asked for) and of the unread total. */
  archived: boolean;
  /** Left out of the chat list and the unread total until the chat's next message. */
  hidden: boolean;
}

/**
 * At least one field. `muted: true` mutes until you unmute, or until `mutedUntil` (a future time); `muted: false`
 * or `mutedUntil: null` unmutes.
 */
export interface UpdateChatSettingsBody {
  muted?: boolean;
  mutedUntil?: string | null;
  archived?: boolean;
  hidden?: boolean;
}

export interface CreateChatBody {
  kind: ChatKind;
  name?: string;
  topic?: string;
  visibility?: ChatVisibility;
  /** User ids; a direct chat names one, the other person. */
  members?: string[];
}

/** At least one field. */
export interface UpdateChatBody {
  name?: string;
  topic?: string | null;
  visibility?: ChatVisibility;
}

export type ListChatsQuery = {
  cursor?: string;
  /** 1 to 200. */
  limit?: number;
  /** true: your archived chats only; false (the default): the others. */
  archived?: boolean;
  /** true: with the chats you hid (default: without them). */
  includeHidden?: boolean;
};

export interface MemberView {
  chatId: string;
  userId: string;
  role: Role;
  joinedAt: string;
  lastReadSeq: number;
}

export interface AddMemberBody {
  userId: string;
  role?: Role;
}

export interface UpdateMemberBody {
  role: Role;
}

export type ListMembersQuery = {
  cursor?: string;
  /** 1 to 200. */
  limit?: number;
};

// ---- messages --------------------------------------------------------------------------------------------------

export interface SendMessageBody {
  text: string;
  /** Your id for this send (1 to 128 characters): a retry with it answers the first message instead of a second. */
  clientId?: string;
  /** The seq of the message this one answers. */
  replyTo?: number;
  /** Reply in the thread of this top-level, live message of the chat (its seq). */
  threadRoot?: number;
  /** A thread reply shown in the chat's main history too (default false). */
  alsoInChat?: boolean;
  /** Ids of files you uploaded to this chat and have not sent yet (at most 10). */
  attachments?: string[];
}

export interface EditMessageBody {
  text: string;
}

export type ListMessagesQuery = {
  /** The messages after this seq, ascending. */
  after?: number;
  /** The messages before this seq. */
  before?: number;
  cursor?: string;
  /** 1 to 200. */
  limit?: number;
};

export interface ReadView {
  lastReadSeq: number;
  unreadCount: number;
}

/** Your cursor in a thread; `participant: false` (nothing stored) when you take no part in it. */
export interface ThreadReadView {
  /** The root's id. */
  messageId: string;
  lastReadSeq: number;
  unreadCount: number;
  participant: boolean;
}

export interface UnreadView {
  /** The unread messages of the chats listed that are neither muted, archived nor hidden, and of your threads. */
  total: number;
  /** The unread mentions of the chats listed. */
  mentionTotal: number;
  /** The main histories: thread-only replies are counted in `threads`, for their participants. */
  chats: {
    chatId: string;
    unreadCount: number;
    lastReadSeq: number;
    /** Unread messages that mention you (by name, `@here` while online, `@all` since you joined). */
    mentionCount: number;
    /** Muted, archived or hidden: the chat's unread messages are not in `total`. */
    muted: boolean;
    archived: boolean;
    hidden: boolean;
  }[];
  /** The threads you take part in with replies by others past your thread cursor. */
  threads: { chatId: string; threadRoot: number; unreadCount: number; lastReadSeq: number }[];
}

/** How a message mentions you: by name, by `@here` (you were online), by `@all`. */
export type MentionVia = 'name' | 'here' | 'all';

// ---- search ----------------------------------------------------------------------------------------------------

/** `relevance` (default): best matches first, then newest; `recent`: newest first. */
export type SearchSort = 'relevance' | 'recent';

export type SearchMessagesQuery = {
  /** Words (stemmed, any case, accents optional), parts of words (3+ letters), "quoted phrases", OR, -excluded. */
  q: string;
  /** Search this chat only. */
  chatId?: string;
  sort?: SearchSort;
  cursor?: string;
  /** 1 to 200. */
  limit?: number;
};

export interface SearchHitView {
  message: MessageView;
  /** HTML-escaped text around the first match, every match in `<mark>…</mark>`, cut with `…` when long. */
  highlight: string;
  /** Relevance, higher is better: > 0 for whole-word matches, 0 for messages that only match part of a word. */
  rank: number;
}

// ---- the stream ------------------------------------------------------------------------------------------------

/** Every event the server sends on a stream, by name. */
export interface ServerEventMap {
  'message.created': { chatId: string; message: MessageView };
  /** A change (`rev`): in rev order with the chat's other changes, replayed on a resume. */
  'message.updated': { chatId: string; message: MessageView; rev: number };
  /** A change (`rev`): in rev order with the chat's other changes, replayed on a resume. */
  'message.deleted': { chatId: string; message: MessageView; rev: number };
  /** A member's read cursor moved forward to `seq` ("seen by"): to every member of a chat within the receipts limit. */
  'read.updated': { chatId: string; userId: string; seq: number; readAt: string };
  /** Changes (`rev`): in rev order with the chat's other changes, replayed on a resume. */
  'reaction.added': ReactionEventPayload;
  'reaction.removed': ReactionEventPayload;
  /** Changes (`rev`): in rev order with the chat's other changes, replayed on a resume. */
  'message.pinned': PinnedEventPayload;
  'message.unpinned': UnpinnedEventPayload;
  /** A message mentions you, even in a chat you muted; not replayed on a resume (replayed messages carry it). */
  'mention.created': { chatId: string; message: MessageView; via: MentionVia };
  /** Not replayed on a resume: the root's `thread` is current. */
  'thread.updated': ThreadUpdatedPayload;
  'chat.created': { chat: ChatView };
  'chat.updated': { chat: ChatView };
  'chat.deleted': { chat: ChatView };
  /** You changed your settings of a chat: to your own streams only. */
  'settings.updated': { chatId: string; settings: ChatSettingsView };
  'member.added': { chatId: string; userId: string };
  'member.removed': { chatId: string; userId: string };
  'member.muted': { chatId: string; userId: string; until: string | null };
  'member.unmuted': { chatId: string; userId: string };
  'member.banned': { chatId: string; userId: string };
  'member.unbanned': { chatId: string; userId: string };
  'report.resolved': { reportId: string; chatId: string; seq: number; action: ReportAction };
  presence: { userId: string; status: UserStatus };
  'user.deleted': { userId: string };
  /** A member is typing (never stored). */
  typing: { chatId: string; userId: string };
}

export type EventType = keyof ServerEventMap;

/** Frames about the stream itself, sent beside the events. */
export interface ControlFrameMap {
  /** Authenticated; always the first frame. `changes`: the rev each chat's changes start at (chats with changes). */
  ready: { userId: string; changes?: Record<string, number> };
  /** A resume's replay is over: what follows is live. */
  resumed: object;
  /** The chat's missed changes are no longer kept: reload its history; changes go on from `rev`. */
  'chat.resync': { chatId: string; rev: number };
  /** The answer to a `ping` frame. */
  pong: object;
  /** A frame the server could not act on; the stream stays open. */
  error: { error: { code: ErrorCode; message: string } };
  /** Server-Sent Events only: the stream ends (a WebSocket says so with its close frame). */
  close: { code: number; reason: string };
}

/** Everything the server writes on a stream, by `type`. */
export type StreamFrameMap = ServerEventMap & ControlFrameMap;

export type StreamFrame = {
  [K in keyof StreamFrameMap]: { type: K } & StreamFrameMap[K];
}[keyof StreamFrameMap];

/** What a client may send on the WebSocket, by `type`. */
export interface ClientFrameMap {
  /**
   * Replay every message after these seqs (chat id → the last seq seen), in order, then every change after the
   * `changes` revs (chat id → the last rev seen), then `resumed`.
   */
  resume: { chats: Record<string, number>; changes?: Record<string, number> };
  /** The user is typing in a chat: its other members hear `typing`. */
  typing: { chatId: string };
  /** Answered with `pong`. */
  ping: object;
}

/** What a client may send on the WebSocket. */
export type ClientFrame = {
  [K in keyof ClientFrameMap]: { type: K } & ClientFrameMap[K];
}[keyof ClientFrameMap];
