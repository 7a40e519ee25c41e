import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import type { Context } from '../context.ts';
import { actorOf } from '../auth/auth.hook.ts';
import { AppError, invalid } from '../errors/codes.ts';
import { operation, secured, type Routes } from '../http/routes.ts';
import { createValidatorCompiler } from '../http/validation.ts';
import { DownloadQuery, FileParams, FileView, UploadBody, UploadParams } from './file.schema.ts';
import { getFile, openDownload, requireUploader, uploadFile, uploadLimits } from './file.service.ts';

/** Where download links point, under the plugin's mount prefix (the /v1 scope's prefix without `/v1`). */
const linkBase = (v1Prefix: string) => `${v1Prefix.replace(/\/v1$/, '')}/files`;

/** The multipart body is read by the handler as a stream: its schema is for the OpenAPI document only. */
function documentOnlyBody(): FastifySchemaCompiler<unknown> {
  const compile = createValidatorCompiler();
  return (route) => (route.httpPart === 'body' ? () => true : compile(route));
}

/** What @fastify/multipart's refusals are in the contract's terms. */
function multipartRefusal(error: unknown, maxBytes: number): unknown {
  const code = (error as { code?: string } | null)?.code;
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError('payload_too_large', `file: larger than this tenant's limit of ${maxBytes} bytes`, [
        { limit: 'file_bytes', max: maxBytes },
      ]);
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppError('unsupported_media_type', 'send the file as multipart/form-data');
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return invalid('send one file part, named file, and nothing else');
    default:
      return error instanceof Error && !(error instanceof AppError) && /multipart|form/i.test(error.message)
        ? invalid(`the multipart body could not be read: ${error.message}`)
        : error;
  }
}

/**
 * A refusal before the body was read to its end (a type refused from its first bytes, a size over the limit): the
 * rest is discarded as it comes and the connection closed after the answer, so that neither side waits for the
 * other and a client streaming without a length cannot keep sending.
 */
function hangUpAfter(request: FastifyRequest, reply: FastifyReply): void {
  if (!request.raw.complete) {
    void reply.header('connection', 'close');
    request.raw.resume();
  }
}

/** Uploading to a chat and asking for a file's download link: /v1, with a token. */
export const fileRoutes: Routes = async (app, { ctx }) => {
  // Multipart is read in this scope only (the upload route), never by the other routes.
  await app.register(multipart, { limits: { files: 1, fields: 0, parts: 1, headerPairs: 100 } });
  const base = linkBase(app.prefix);

  app.post(
    '/chats/:id/files',
    {
      schema: {
        tags: ['files'],
        ...operation('uploadFile', 'Upload a file to a chat', [
          'not_found',
          'payload_too_large',
          'unsupported_media_type',
        ]),
        ...secured,
        description:
          'A `multipart/form-data` body with one part, `file`. The file is streamed to the store and kept once ' +
          'per content (SHA-256); the answer (201) is the file with a short-lived download link. It belongs to no ' +
          'message until the uploader sends one with it (`attachments` of a send); one never sent is removed ' +
          'after the grace period. Per tenant: files over the size limit are refused with 413 `payload_too_large` ' +
          '(details: `limit` "file_bytes", `max`), types not accepted with 415 `unsupported_media_type` (`limit` ' +
          '"file_types", `accepted`); a body that is not multipart is 415 too. Image types (PNG, JPEG, GIF, ' +
          'WebP) are read from the bytes, with their dimensions; a declared type is never trusted for an image.',
        params: UploadParams,
        consumes: ['multipart/form-data'],
        body: UploadBody,
        response: { 201: FileView },
      },
      validatorCompiler: documentOnlyBody(),
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const chatId = request.params.id;
      const maxBytes = uploadLimits(ctx, actor).maxBytes;
      // Access first: whoever cannot see the chat learns nothing of what it accepts.
      await requireUploader(ctx, actor, chatId);
      const declared = Number(request.headers['content-length']);
      // A body announced far over the limit is refused before a byte of it is read.
      if (Number.isFinite(declared) && declared > maxBytes + 1024 * 1024) {
        hangUpAfter(request, reply);
        throw new AppError(
          'payload_too_large',
          `file: larger than this tenant's limit of ${maxBytes} bytes`,
          [{ limit: 'file_bytes', max: maxBytes }],
        );
      }
      try {
        if (!request.isMultipart()) {
          throw new AppError('unsupported_media_type', 'send the file as multipart/form-data');
        }
        const part = await request.file({
          limits: { fileSize: maxBytes + 1, files: 1, fields: 0, parts: 1 },
        });
        if (!part || part.fieldname !== 'file') {
          part?.file.resume();
          throw invalid('file: one part named file is required');
        }
        const view = await uploadFile(
          ctx,
          actor,
          {
            chatId,
            source: part.file,
            filename: part.filename,
            declaredType: part.mimetype,
            truncated: () => part.file.truncated,
          },
          base,
        );
        return reply.status(201).send(view);
      } catch (error) {
        hangUpAfter(request, reply);
        throw multipartRefusal(error, maxBytes);
      }
    },
  );

  app.get(
    '/files/:id',
    {
      schema: {
        tags: ['files'],
        ...operation('getFile', 'A file, with a fresh download link', ['not_found']),
        ...secured,
        description:
          'Members of the file’s chat only (404 for anyone else, and for a file whose message or chat was ' +
          'deleted). `url` works without a token until `urlExpiresAt` (`PARLEY_FILES_URL_TTL_S`).',
        params: FileParams,
        response: { 200: FileView },
      },
    },
    (request) => getFile(ctx, actorOf(request), request.params.id, base),
  );
};

/** RFC 6266: an ASCII fallback and the UTF-8 name. */
function disposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * Downloads through signed links: outside /v1 and without a token, so that `<img src>` and plain links work in
 * browsers. The signature is the capability (made for a member by `GET /v1/files/{id}`, short-lived).
 */
export const fileDownloadRoutes: FastifyPluginAsyncTypebox<{ ctx: Context }> = async (app, { ctx }) => {
  app.get(
    '/files/:id',
    {
      schema: {
        tags: ['files'],
        ...operation('downloadFile', 'Download a file through a signed link', ['forbidden', 'not_found']),
        description:
          'The link comes from a file’s `url` (an upload’s answer, `GET /v1/files/{id}`); no token. 403 for a ' +
          'link that is forged or expired, 404 when the file is no longer shown (its message, the file or its ' +
          'chat deleted). Images Parley recognized are served inline with their type; anything else as an ' +
          'attachment (`Content-Disposition: attachment`). Always `X-Content-Type-Options: nosniff` and a ' +
          'sandboxing `Content-Security-Policy`.',
        params: FileParams,
        querystring: DownloadQuery,
        response: {
          200: {
            description: 'The file’s bytes.',
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          },
        },
      },
    },
    async (request, reply) => {
      const { exp, sig } = request.query;
      const file = await openDownload(ctx, request.params.id, exp, sig);
      const remaining = Math.max(0, Math.floor((file.expiresAt.getTime() - Date.now()) / 1000));
      return (
        reply
          .header('content-type', file.contentType)
          .header('content-length', file.size)
          .header('content-disposition', disposition(file.inline ? 'inline' : 'attachment', file.name))
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "default-src 'none'; sandbox")
          .header('cache-control', `private, max-age=${remaining}, immutable`)
          .header('etag', `"${file.sha256}"`)
          // The document types the answer as a string of bytes; Fastify sends the stream as it comes.
          .send(file.stream as never)
      );
    },
  );
};
