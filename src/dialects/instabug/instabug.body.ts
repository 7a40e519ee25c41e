import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, invalid } from '../../errors/codes.ts';

/** Rails clients send `Content-Type: application/json` with no body on POST .../chats: that is an empty object. */
export function emptyJsonIsObject(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, raw, done) => {
    const text = String(raw);
    if (text.trim() === '') {
      done(null, {});
      return;
    }
    try {
      done(null, JSON.parse(text) as unknown);
    } catch {
      done(invalid('body: is not valid JSON'), undefined);
    }
  });
}

/**
 * The body of a request; Fastify parses none on GET, and Instabug clients send the search words in one: read it
 * here (JSON, at most `limit` bytes).
 */
export async function readBody(request: FastifyRequest, limit: number): Promise<unknown> {
  if (request.body !== undefined || !request.headers['content-length']) {
    return request.body;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limit) {
      throw new AppError('payload_too_large', 'request body is larger than the limit');
    }
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalid('body: is not valid JSON');
  }
}
