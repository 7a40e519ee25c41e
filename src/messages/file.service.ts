import type { Context } from '../context.ts';
import { invalid } from '../errors/codes.ts';
import { filesOfMessages, unsentUploads } from './file.repository.ts';
import type { MessageView } from './message.schema.ts';

/** Views of messages of one chat with the files sent with them (none shown on a deleted message). */
export async function withFiles(ctx: Context, chatId: string, views: MessageView[]): Promise<MessageView[]> {
  const seqs = views.filter((view) => !view.deletedAt).map((view) => view.seq);
  if (seqs.length === 0) {
    return views;
  }
  const found = await filesOfMessages(ctx.db, chatId, seqs);
  if (found.size === 0) {
    return views;
  }
  return views.map((view) => {
    const files = view.deletedAt ? undefined : found.get(view.seq);
    return files ? { ...view, attachments: files } : view;
  });
}

/**
 * The files a send names must be the sender's own uploads to the chat, not sent yet (400 naming the others). The
 * send statement links them only on those conditions again, so a file two sends race for goes to one of them.
 */
export async function checkSentFiles(
  ctx: Context,
  chatId: string,
  authorId: string,
  ids: string[],
): Promise<void> {
  if (ids.length === 0) {
    return;
  }
  const found = new Set(await unsentUploads(ctx.db, chatId, authorId, ids));
  const others = ids.filter((id) => !found.has(id));
  if (others.length > 0) {
    throw invalid(
      `attachments: ${others.join(', ')} ${others.length === 1 ? 'is not a file' : 'are not files'} you uploaded ` +
        'to this chat and have not sent yet',
    );
  }
}
