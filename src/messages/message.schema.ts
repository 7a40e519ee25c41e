import Type, { type Static } from 'typebox';
import { ReactionView } from './reaction.schema.ts';

const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/**
 * A seq as clients send it (in a path, a query or a body): a whole number from `minimum` up to the largest one
 * JavaScript holds exactly. Bounded, so that 1e20 is a 400 rather than a number the database cannot compare.
 */
const Seq = (minimum: number) => Type.Integer({ minimum, maximum: Number.MAX_SAFE_INTEGER });

export const ThreadSummary = Type.Object(
  {
    replyCount: Type.Integer({ minimum: 0, description: 'The thread’s live replies.' }),
    lastReplyAt: Type.String({ format: 'date-time', description: 'When the newest reply was sent.' }),
    participants: Type.Array(Type.String(), {
      maxItems: 10,
      description:
        'The first participants (user ids), the root’s author first, then repliers as they joined.',
    }),
  },
  { description: 'The thread under a message, once it has had a reply.' },
);
export type ThreadSummary = Static<typeof ThreadSummary>;

/** A file a message carries, as every view of the message shows it (docs/files.md). */
export const MessageFile = Type.Object(
  {
    id: Type.String({ description: 'The file’s id: `GET /v1/files/{id}` gives a download link.' }),
    name: Type.String({ description: 'The file’s name as uploaded, sanitized.' }),
    contentType: Type.String({
      description:
        'Read from the bytes for images (image/png, image/jpeg, image/gif, image/webp, shown inline); for other ' +
        'files the type the client declared, when the tenant accepts it, else application/octet-stream.',
    }),
    size: Type.Integer({ minimum: 0, description: 'In bytes.' }),
    width: Nullable(Type.Integer({ minimum: 1, description: 'An image’s width in pixels; null otherwise.' })),
    height: Nullable(
      Type.Integer({ minimum: 1, description: 'An image’s height in pixels; null otherwise.' }),
    ),
  },
  { description: 'An uploaded file, sent with a message.' },
);
export type MessageFile = Static<typeof MessageFile>;

export const MessageView = Type.Object({
  id: Type.String(),
  chatId: Type.String(),
  seq: Type.Integer(),
  authorId: Type.String(),
  text: Nullable(Type.String()),
  replyTo: Nullable(Type.Integer()),
  clientId: Nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  editedAt: Nullable(Type.String({ format: 'date-time' })),
  deletedAt: Nullable(Type.String({ format: 'date-time' })),
  threadRoot: Nullable(
    Type.Integer({ description: 'A thread reply: the seq of the top-level message whose thread it is in.' }),
  ),
  alsoInChat: Type.Boolean({
    description: 'A thread reply also shown in the chat’s main history; false for every other message.',
  }),
  thread: Nullable(ThreadSummary),
  reactions: Type.Optional(
    Type.Array(ReactionView, {
      description:
        'The emoji members reacted with, first reacted first; empty for a deleted message. Present on history ' +
        'pages, single messages and edits; absent where reactions are not loaded (a send’s answer, a chat’s lastMessage, search ' +
        'hits, stream events: those carry reaction.added / reaction.removed instead).',
    }),
  ),
  pinnedAt: Type.Optional(
    Nullable(
      Type.String({
        format: 'date-time',
        description:
          'When the message was pinned; null when it is not pinned. Present with `pinnedBy` on history pages, ' +
          'single messages, edits and deletes (answers and events) and the pins list; absent where pins are not ' +
          'loaded (a send’s answer and `message.created`, a chat’s lastMessage, search hits: those carry ' +
          '`message.pinned` / `message.unpinned` instead).',
      }),
    ),
  ),
  pinnedBy: Type.Optional(
    Nullable(Type.String({ description: 'Who pinned the message; null when it is not pinned.' })),
  ),
  mentions: Type.Optional(
    Type.Array(Type.String(), {
      description:
        'The members the text names with `@username`, resolved when it was sent or last edited, by id; empty for ' +
        'a deleted message. Present wherever a message is shown with its mentions: answers of sends, edits, ' +
        'single messages and history pages, message.created / message.updated and stream replays; absent in a ' +
        'chat’s lastMessage, search hits and dialect views.',
    }),
  ),
  mentionsAll: Type.Optional(
    Type.Boolean({ description: 'The text mentions everyone in the chat (`@all` by an owner or admin).' }),
  ),
  mentionsHere: Type.Optional(
    Type.Boolean({
      description: 'The text mentions the members online when it was sent (`@here` by an owner or admin).',
    }),
  ),
  attachments: Type.Optional(
    Type.Array(MessageFile, {
      description:
        'The files sent with the message, in the order they were given; present only on a message that has ' +
        'any and is not deleted (wherever mentions are shown: answers of sends, single messages, history pages, ' +
        'message.created and stream replays).',
    }),
  ),
});
export type MessageView = Static<typeof MessageView>;

/** Most files one message may carry. */
export const MAX_MESSAGE_FILES = 10;

export const ClientIdSchema = Type.String({ minLength: 1, maxLength: 128 });

/** Text limits are checked by the service against the configured maximum; the schema only bounds the type. */
export const SendMessageBody = Type.Object(
  {
    text: Type.String({ minLength: 1 }),
    clientId: Type.Optional(ClientIdSchema),
    replyTo: Type.Optional(Seq(1)),
    threadRoot: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: Number.MAX_SAFE_INTEGER,
        description: 'Reply in the thread of this top-level, live message of the chat (its seq).',
      }),
    ),
    alsoInChat: Type.Optional(
      Type.Boolean({ description: 'A thread reply shown in the chat’s main history too (default false).' }),
    ),
    attachments: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        maxItems: MAX_MESSAGE_FILES,
        uniqueItems: true,
        description:
          'Ids of files the sender uploaded to this chat (`POST /v1/chats/{id}/files`) and has not sent yet; ' +
          'they belong to the message from then on.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type SendMessageBody = Static<typeof SendMessageBody>;

export const EditMessageBody = Type.Object(
  { text: Type.String({ minLength: 1 }) },
  { additionalProperties: false },
);
export type EditMessageBody = Static<typeof EditMessageBody>;

export const ListMessagesQuery = Type.Object(
  {
    after: Type.Optional(Seq(0)),
    before: Type.Optional(Seq(1)),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);
export type ListMessagesQuery = Static<typeof ListMessagesQuery>;

export const MessageParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  seq: Seq(1),
});

export const ReadBody = Type.Object({ seq: Seq(0) }, { additionalProperties: false });
export type ReadBody = Static<typeof ReadBody>;

export const ReadView = Type.Object({ lastReadSeq: Type.Integer(), unreadCount: Type.Integer() });
export type ReadView = Static<typeof ReadView>;

export const ThreadParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  seq: Seq(1),
});

export const ThreadReadView = Type.Object({
  messageId: Type.String({ description: 'The root’s id.' }),
  lastReadSeq: Type.Integer(),
  unreadCount: Type.Integer(),
  participant: Type.Boolean({
    description: 'Whether you take part in the thread; only participants have a thread cursor to move.',
  }),
});
export type ThreadReadView = Static<typeof ThreadReadView>;

export const UnreadView = Type.Object({
  total: Type.Integer({
    description:
      'The unread messages of the chats listed that are neither muted, archived nor hidden, and of the threads ' +
      'you take part in.',
  }),
  mentionTotal: Type.Integer({
    description: 'The unread mentions of every chat listed, muted ones included.',
  }),
  chats: Type.Array(
    Type.Object({
      chatId: Type.String(),
      unreadCount: Type.Integer(),
      lastReadSeq: Type.Integer(),
      mentionCount: Type.Integer({
        description:
          'Live messages by others past the read cursor that mention you: by `@username`, by `@here` while ' +
          'you were online, or `@all` sent since you joined.',
      }),
      muted: Type.Boolean({ description: 'You muted the chat: its unread messages are not in `total`.' }),
      archived: Type.Boolean({
        description: 'You archived the chat: its unread messages are not in `total`.',
      }),
      hidden: Type.Boolean({ description: 'You hid the chat: its unread messages are not in `total`.' }),
    }),
  ),
  threads: Type.Array(
    Type.Object({
      chatId: Type.String(),
      threadRoot: Type.Integer(),
      unreadCount: Type.Integer(),
      lastReadSeq: Type.Integer(),
    }),
    { description: 'The threads you take part in with replies by others past your thread cursor.' },
  ),
});
export type UnreadView = Static<typeof UnreadView>;
