import type { FastifyInstance } from 'fastify';
import type { RealtimeConfig } from '../realtime/realtime.config.ts';
import { buildAsyncApi } from '../realtime/stream.asyncapi.ts';

export interface AsyncApiOptions {
  /** The prefix the stream's routes are registered under, inside Parley (`/v1`). */
  streamPrefix: string;
  limits: RealtimeConfig;
}

/**
 * /asyncapi.json, beside /openapi.json: the real-time stream's AsyncAPI 3.0 document (`realtime/stream.asyncapi.ts`).
 * Its addresses carry the prefix Parley is mounted under, and its servers the host the document was asked from.
 */
export async function registerAsyncApi(
  app: FastifyInstance,
  { streamPrefix, limits }: AsyncApiOptions,
): Promise<void> {
  const base = `${app.prefix}${streamPrefix}`;
  app.get('/asyncapi.json', { schema: { hide: true } }, async (request) =>
    buildAsyncApi({
      base,
      host: request.host || 'localhost',
      secure: request.protocol === 'https',
      limits,
    }),
  );
}
