import type { FastifyReply } from 'fastify';
import { sendJsonPages } from '../dialect.stream.ts';

/** A whole Instabug list, streamed page by page (`sendJsonPages`), each item shown by `view`. */
export async function sendJsonArray<T>(
  reply: FastifyReply,
  pages: AsyncGenerator<T[]>,
  view: (item: T) => object,
): Promise<FastifyReply> {
  return sendJsonPages(reply, pages, (items) => items.map((item) => JSON.stringify(view(item))).join(','));
}
