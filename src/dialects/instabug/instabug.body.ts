import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, invalid } from '../../errors/codes.ts';

/** The message of a body that is not JSON: Rails answers it 400, not 422. */
export const BAD_JSON = 'body: is not valid JSON';

/**
 * An HTML form's body (`name=x`, Rails' `application[name]=x` one level deep) as the object Rails' params would be.
 * Rails takes forms and JSON alike, and its request specs post forms.
 */
export function formBody(text: string): Record<string, unknown> {
  // Without a prototype: a field named `__proto__` is a field, nothing more.
  const body = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of new URLSearchParams(text)) {
    const nested = /^([^[\]]+)\[([^[\]]+)\]$/.exec(key);
    if (nested) {
      const outer = body[nested[1]!];
      const inner =
        typeof outer === 'object' && outer !== null
          ? (outer as Record<string, unknown>)
          : (Object.create(null) as Record<string, unknown>);
      inner[nested[2]!] = value;
      body[nested[1]!] = inner;
    } else {
      body[key] = value;
    }
  }
  return body;
}

/**
 * The bodies Rails reads: JSON (none at all, as clients send on POST .../chats, is an empty object) and HTML forms.
 */
export function installBodyParsers(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, raw, done) => {
      done(null, formBody(String(raw)));
    },
  );
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
      done(invalid(BAD_JSON), undefined);
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
    throw invalid(BAD_JSON);
  }
}
