import Type, { type Static } from 'typebox';
import { MessageFile } from '../messages/message.schema.ts';

export const FileView = Type.Object(
  {
    ...MessageFile.properties,
    chatId: Type.String(),
    messageId: Type.Union([Type.String(), Type.Null()], {
      description: 'The message the file was sent with; null until it is sent.',
    }),
    sha256: Type.String({ description: 'The SHA-256 of the file’s bytes (hex).' }),
    createdBy: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    url: Type.String({
      description:
        'A signed download link (a path on this server), valid without a token until `urlExpiresAt`: usable as ' +
        'an `<img src>` or a link. Ask `GET /v1/files/{id}` for a fresh one.',
    }),
    urlExpiresAt: Type.String({ format: 'date-time' }),
  },
  { description: 'An uploaded file, with a short-lived download link (docs/files.md).' },
);
export type FileView = Static<typeof FileView>;

export const FileParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const UploadParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** The multipart body, for the OpenAPI document only: the route reads the stream itself. */
export const UploadBody = Type.Object(
  {
    file: Type.String({
      format: 'binary',
      description: 'The file: one part, its filename and Content-Type as the client knows them.',
    }),
  },
  { required: ['file'] },
);

export const DownloadQuery = Type.Object(
  {
    exp: Type.String({ pattern: '^[0-9]{1,12}$', description: 'When the link expires (Unix seconds).' }),
    sig: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'The link’s signature.' }),
  },
  { additionalProperties: false },
);
