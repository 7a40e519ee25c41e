import type { Actor } from '../auth/actor.ts';
import { chatNotFound, hasRole, recordChange, requireMember } from '../chats/chat.access.ts';
import type { Context } from '../context.ts';
import type { Db } from '../db/database.ts';
import type { Envelope } from '../events.ts';
import { AppError, conflict, forbidden, invalid, notFound } from '../errors/codes.ts';
import { newId } from '../ids.ts';
import { advanceReadCursor, findLiveMute } from '../members/member.access.ts';
import { mentionCandidates, mentionsNothing } from './mention.parse.ts';
import type { ResolvedMentions } from './mention.repository.ts';
import { checkSentFiles, withFiles } from './file.service.ts';
import { publishMentions, withMentions } from './mention.service.ts';
import { presentMessage } from './message.presenter.ts';
import {
  findMessage,
  findMessageById,
  findMessagesBySeq,
  findTenantMessage,
  softDeleteMessage,
  updateText,
  type SentProperties,
} from './message.repository.ts';
import type {
  EditMessageBody,
  MessageView,
  ReadBody,
  ReadView,
  SendMessageBody,
  UnreadView,
} from './message.schema.ts';
import type { MessageRow } from './message.table.ts';
import { messageEvent } from './message.events.ts';
import { reactionsFor } from './reaction.service.ts';
import { publishThreadUpdated } from './thread.service.ts';
import { unreadSummary } from './unread.repository.ts';

export type { SentProperties };

export interface SentMessage {
  message: MessageView;
  /** False when the clientId had been used before by the same author in this chat: the first message comes back. */
  created: boolean;
}

function checkText(ctx: Context, text: string): void {
  if (text.trim() === '') {
    throw invalid('text: must not be blank');
  }
  if (text.length > ctx.limits.messageChars && [...text].length > ctx.limits.messageChars) {
    throw invalid(`text: must be at most ${ctx.limits.messageChars} characters`);
  }
  if (text.includes('\u0000')) {
    // PostgreSQL cannot store it; refused here so that it never reaches, and fails, a batch of other people's sends.
    throw invalid('text: must not contain NUL (\\u0000) characters');
  }
}

/** What PostgreSQL cannot store is refused here, so that it never reaches, and fails, a batch of other sends. */
function checkProperties(properties: SentProperties): void {
  for (const [name, value] of [
    ['subject', properties.subject],
    ['channelType', properties.channelType],
  ] as const) {
    if (value?.includes('\u0000')) {
      throw invalid(`${name}: must not contain NUL (\\u0000) characters`);
    }
  }
}

/**
 * A send: its text checked here, everything else by the one statement that writes it (the send function in
 * `message.sql.ts`), batched with every other send of the moment. Its outcome says which answer to give.
 * `properties` (what a dialect's client sent beside the text) are written in the same statement as the message,
 * when it is written: both or neither.
 */
export async function sendMessage(
  ctx: Context,
  actor: Actor,
  chatId: string,
  body: SendMessageBody,
  properties?: SentProperties,
): Promise<SentMessage> {
  checkText(ctx, body.text);
  if (body.alsoInChat !== undefined && body.threadRoot === undefined) {
    throw invalid('alsoInChat: only a thread reply (threadRoot) is shown in the chat or not');
  }
  if (properties) {
    checkProperties(properties);
  }
  const files = body.attachments ?? [];
  if (files.length > 0) {
    try {
      await checkSentFiles(ctx, chatId, actor.userId, files);
    } catch (error) {
      // Whoever cannot see the chat is told so, never which files are not theirs.
      await requireMember(ctx.db, actor, chatId);
      throw error;
    }
  }
  const text = ctx.beforeSend ? await hooked(ctx, actor, chatId, body) : body.text;
  const candidates = mentionCandidates(text);
  const sent = await ctx.sends.submit({
    id: newId(),
    tenantId: actor.tenantId,
    chatId,
    authorId: actor.userId,
    text,
    replyTo: body.replyTo ?? null,
    clientId: body.clientId ?? null,
    threadRoot: body.threadRoot ?? null,
    alsoInChat: body.alsoInChat ?? false,
    properties: properties ?? null,
    mentions: mentionsNothing(candidates) ? null : candidates,
    files: files.length > 0 ? files : null,
  });
  switch (sent.outcome) {
    case 'written':
      return published(ctx, actor, sent.row, sent.mentions, files.length > 0);
    case 'bad_thread':
      throw invalid(
        `threadRoot: message ${body.threadRoot} is not a live top-level message of this chat (a thread reply ` +
          'cannot open a thread of its own)',
      );
    case 'duplicate': {
      const views = await withMentions(ctx, chatId, [presentMessage(sent.row)]);
      const [message] = await withFiles(ctx, chatId, views);
      return { message: message!, created: false };
    }
    case 'bad_reply':
      throw invalid(`replyTo: no message ${body.replyTo} in this chat`);
    case 'not_found':
      throw chatNotFound(chatId);
    case 'closed':
      throw forbidden('the other member of this direct chat was deleted: it takes no new messages');
    case 'muted':
      throw await mutedRefusal(ctx, chatId, actor.userId);
    case 'blocked':
      // Says no more than the refusal of a closed chat: the blocked user is not told they are blocked.
      throw forbidden('this direct chat takes no new messages from you');
  }
}

/** The text the "before send" hook lets through (checked again when rewritten), or its refusal. */
async function hooked(ctx: Context, actor: Actor, chatId: string, body: SendMessageBody): Promise<string> {
  const text = await ctx.beforeSend!({
    tenantId: actor.tenantId,
    chatId,
    authorId: actor.userId,
    text: body.text,
    clientId: body.clientId ?? null,
    replyTo: body.replyTo ?? null,
    threadRoot: body.threadRoot ?? null,
  });
  if (text !== body.text) {
    checkText(ctx, text);
  }
  return text;
}

/** A muted member's refusal says until when (`details`: `reason` "muted", `until`, null while unmuted by hand). */
async function mutedRefusal(ctx: Context, chatId: string, userId: string): Promise<AppError> {
  const mute = await findLiveMute(ctx.db, chatId, userId);
  const until = mute?.until ? mute.until.toISOString() : null;
  return new AppError(
    'forbidden',
    until ? `you are muted in this chat until ${until}` : 'you are muted in this chat',
    [{ reason: 'muted', until }],
  );
}

async function published(
  ctx: Context,
  actor: Actor,
  row: MessageRow,
  mentions: ResolvedMentions,
  withSentFiles: boolean,
): Promise<SentMessage> {
  const presented = presentMessage(row, undefined, mentions);
  const [message] = withSentFiles ? await withFiles(ctx, row.chat_id, [presented]) : [presented];
  if (!message) {
    throw new Error('a sent message has no view');
  }
  ctx.events.publish(
    messageEvent(
      'message.created',
      actor.tenantId,
      { chatId: row.chat_id },
      { chatId: row.chat_id, message },
    ),
  );
  publishMentions(ctx, actor.tenantId, message, mentions);
  await publishThreadUpdated(ctx, actor.tenantId, row);
  return { message, created: true };
}

async function requireMessage(ctx: Context, chatId: string, seq: number): Promise<MessageRow> {
  const row = await findMessage(ctx.db, chatId, seq);
  if (!row) {
    throw notFound(`message ${seq} not found in chat ${chatId}`);
  }
  return row;
}

export async function getMessage(
  ctx: Context,
  actor: Actor,
  chatId: string,
  seq: number,
): Promise<MessageView> {
  await requireMember(ctx.db, actor, chatId);
  const views = await withMentions(ctx, chatId, [presentMessage(await requireMessage(ctx, chatId, seq))]);
  const [message] = await reactionsFor(ctx, actor.userId, chatId, await withFiles(ctx, chatId, views));
  return message!;
}

/** Several messages of one chat by seq (those that exist), for documents that include them. */
export async function getMessagesBySeq(
  ctx: Context,
  actor: Actor,
  chatId: string,
  seqs: number[],
): Promise<MessageView[]> {
  await requireMember(ctx.db, actor, chatId);
  const rows = await findMessagesBySeq(ctx.db, chatId, [...new Set(seqs)]);
  const views = await withMentions(
    ctx,
    chatId,
    rows.map((row) => presentMessage(row)),
  );
  return reactionsFor(ctx, actor.userId, chatId, await withFiles(ctx, chatId, views));
}

/** A message of the chat by its id rather than its seq, or null when the chat has none with that id. */
export async function findMessageWithId(
  ctx: Context,
  actor: Actor,
  chatId: string,
  id: string,
): Promise<MessageView | null> {
  await requireMember(ctx.db, actor, chatId);
  const row = await findMessageById(ctx.db, chatId, id);
  return row ? presentMessage(row) : null;
}

export async function editMessage(
  ctx: Context,
  actor: Actor,
  chatId: string,
  seq: number,
  body: EditMessageBody,
): Promise<MessageView> {
  checkText(ctx, body.text);
  await requireMember(ctx.db, actor, chatId);
  const current = await requireMessage(ctx, chatId, seq);
  if (current.author_id !== actor.userId) {
    throw forbidden('only the author may edit a message');
  }
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const edited = await updateText(
      trx,
      actor.tenantId,
      chatId,
      seq,
      body.text,
      mentionCandidates(body.text),
    );
    if (!edited) {
      throw conflict(`message ${seq} is deleted`);
    }
    const { mentions, previous, previousAll, ...row } = edited;
    const message = presentMessage(row, undefined, mentions);
    const change = await recordChange(trx, chatId, 'message.updated', { chatId, message });
    return { change, mentions, before: { users: previous, all: previousAll } };
  });
  const { change, mentions, before } = outcome;
  ctx.events.publish(messageEvent('message.updated', actor.tenantId, { chatId }, change));
  publishMentions(ctx, actor.tenantId, change.message, mentions, before);
  const [answer] = await reactionsFor(ctx, actor.userId, chatId, [change.message]);
  return answer!;
}

export async function deleteMessage(ctx: Context, actor: Actor, chatId: string, seq: number): Promise<void> {
  const { member } = await requireMember(ctx.db, actor, chatId);
  const current = await requireMessage(ctx, chatId, seq);
  if (current.author_id !== actor.userId && !hasRole(member, 'admin')) {
    throw forbidden('only the author or a chat owner or admin may delete a message');
  }
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const row = await softDeleteMessage(trx, chatId, seq);
    if (!row) {
      return null;
    }
    const change = await recordChange(trx, chatId, 'message.deleted', {
      chatId,
      message: presentMessage(row),
    });
    return { row, change };
  });
  if (outcome) {
    ctx.events.publish(messageEvent('message.deleted', actor.tenantId, { chatId }, outcome.change));
    await publishThreadUpdated(ctx, actor.tenantId, outcome.row);
  }
}

/**
 * A moderator's deletion (a report acted on, docs/moderation.md), inside the caller's transaction: the event to
 * publish once it commits, or null when the message was deleted already.
 */
export async function deleteMessageIn(
  trx: Db,
  tenantId: string,
  chatId: string,
  seq: number,
): Promise<Envelope | null> {
  const row = await softDeleteMessage(trx, chatId, seq);
  if (!row) {
    return null;
  }
  const change = await recordChange(trx, chatId, 'message.deleted', { chatId, message: presentMessage(row) });
  return messageEvent('message.deleted', tenantId, { chatId }, change);
}

export async function markRead(
  ctx: Context,
  actor: Actor,
  chatId: string,
  body: ReadBody,
): Promise<ReadView> {
  const { chat } = await requireMember(ctx.db, actor, chatId);
  if (body.seq > chat.last_seq) {
    throw invalid(`seq: chat ${chatId} has no message ${body.seq} (its last is ${chat.last_seq})`);
  }
  const cursor = await advanceReadCursor(ctx.db, chatId, actor.userId, body.seq);
  if (!cursor) {
    throw chatNotFound(chatId);
  }
  const { last_read_seq: lastReadSeq, unread_count: unreadCount } = cursor;
  if (cursor.moved && cursor.last_read_at) {
    // A receipt for every member of a small chat; in a larger one only the reader's own devices follow it.
    const audience =
      chat.member_count <= ctx.limits.receiptsMaxMembers ? { chatId } : { userId: actor.userId };
    ctx.events.publish(
      messageEvent('read.updated', actor.tenantId, audience, {
        chatId,
        userId: actor.userId,
        seq: lastReadSeq,
        readAt: cursor.last_read_at.toISOString(),
      }),
    );
  }
  return { lastReadSeq, unreadCount };
}

export async function unread(ctx: Context, actor: Actor): Promise<UnreadView> {
  const summary = await unreadSummary(ctx.db, actor.tenantId, actor.userId);
  const rows = summary.chats;
  const threads = summary.threads.map((r) => ({
    chatId: r.chat_id,
    threadRoot: r.root_seq,
    unreadCount: r.unread_count,
    lastReadSeq: r.last_read_seq,
  }));
  const chats = rows.map((r) => ({
    chatId: r.chat_id,
    unreadCount: r.unread_count,
    lastReadSeq: r.last_read_seq,
    mentionCount: r.mention_count,
    muted: r.s_muted,
    archived: r.s_archived,
    hidden: r.s_hidden,
  }));
  // Muted, archived and hidden chats are listed, and left out of the total (their mentions still count); the
  // threads you take part in count wherever they are.
  const chatTotal = chats.reduce(
    (sum, c) => (c.muted || c.archived || c.hidden ? sum : sum + c.unreadCount),
    0,
  );
  return {
    total: threads.reduce((sum, t) => sum + t.unreadCount, chatTotal),
    mentionTotal: chats.reduce((sum, c) => sum + c.mentionCount, 0),
    chats,
    threads,
  };
}

/** A message of the tenant by its id, in any live chat, or null (dialects: DRF task state). */
export async function findTenantMessageById(
  ctx: Context,
  tenantId: string,
  messageId: string,
): Promise<MessageView | null> {
  const row = await findTenantMessage(ctx.db, tenantId, messageId);
  return row ? presentMessage(row) : null;
}
