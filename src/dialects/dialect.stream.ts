import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

/**
 * Answers a JSON array written page by page as `pages` yields them, each page written by `json` (its items' JSON,
 * comma-separated, without the brackets): the next page is read from the database only when the client has taken
 * the last one (the stream's back-pressure), so a list of any length costs one page of memory. The first page is
 * read before anything is sent: an unknown token or chat is still a whole 404. A failure later can no longer change
 * the status: it is logged and the connection is cut, so the client sees a truncated body, never a complete-looking
 * wrong one.
 */
export async function sendJsonPages<T>(
  reply: FastifyReply,
  pages: AsyncIterator<readonly T[]>,
  json: (items: readonly T[]) => string,
): Promise<FastifyReply> {
  const first = await pages.next();
  const log = reply.log;
  async function* body(): AsyncGenerator<string> {
    let count = 0;
    let page = first;
    yield '[';
    try {
      while (page.done !== true) {
        if (page.value.length > 0) {
          yield (count > 0 ? ',' : '') + json(page.value);
          count += page.value.length;
        }
        page = await pages.next();
      }
    } catch (error) {
      log.error({ err: error, written: count }, 'streamed list failed part way; the answer is cut short');
      throw error;
    }
    yield ']';
  }
  return reply.type('application/json; charset=utf-8').send(Readable.from(body()));
}
