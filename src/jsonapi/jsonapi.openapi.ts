import Type from 'typebox';
import { ERROR_STATUS } from '../errors/codes.ts';

/**
 * JSON:API documents as the OpenAPI document shows them (`application/vnd.api+json`). Documentation only: requests
 * are read by `jsonapi.request.ts` and answers rendered by `jsonapi.render.ts`, neither with these. The attributes
 * of each type are the native view's fields (docs/jsonapi.md).
 */

const Meta = Type.Record(Type.String(), Type.Unknown());
const Link = Type.Union([Type.String({ format: 'uri' }), Type.Null()]);
const Links = Type.Record(Type.String(), Link, {
  description: '`self`, `related`; on lists `first`, `next` (null on the last page), on history `prev`',
});

export const JsonApiIdentifierView = Type.Object({
  type: Type.String({
    description:
      '`users`, `chats`, `members`, `messages`, `mutes`, `bans`, `blocks`, `reports`, `logEntries`, `files`, ' +
      '`webhooks` or `webhookDeliveries`',
  }),
  id: Type.String(),
  meta: Type.Optional(Meta),
});

export const JsonApiResourceView = Type.Object({
  type: Type.String({
    description:
      '`users`, `chats`, `members`, `messages`, `mutes`, `bans`, `blocks`, `reports`, `logEntries`, `files`, ' +
      '`webhooks` or `webhookDeliveries`',
  }),
  id: Type.String(),
  attributes: Type.Optional(Meta),
  relationships: Type.Optional(
    Type.Record(
      Type.String(),
      Type.Object({
        data: Type.Optional(
          Type.Union([Type.Null(), JsonApiIdentifierView, Type.Array(JsonApiIdentifierView)]),
        ),
        links: Type.Optional(Links),
        meta: Type.Optional(Meta),
      }),
    ),
  ),
  links: Type.Optional(Links),
  meta: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), { description: "a search hit's `highlight` and `rank`" }),
  ),
});

export const JsonApiDocumentView = Type.Object(
  {
    data: Type.Union([Type.Null(), JsonApiResourceView, Type.Array(JsonApiResourceView)], {
      description: 'a resource, a page of them, or (relationship endpoints) resource identifiers',
    }),
    included: Type.Optional(Type.Array(JsonApiResourceView)),
    links: Type.Optional(Links),
    meta: Type.Optional(Meta),
    jsonapi: Type.Object({ version: Type.String() }),
  },
  { description: 'A JSON:API 1.0 document (docs/jsonapi.md).' },
);

export const JsonApiErrorsView = Type.Object(
  {
    errors: Type.Array(
      Type.Object({
        status: Type.String({ description: 'the HTTP status, as a string' }),
        code: Type.String({ enum: Object.keys(ERROR_STATUS), description: 'the native error code' }),
        title: Type.String(),
        detail: Type.String(),
        source: Type.Optional(
          Type.Object({
            pointer: Type.Optional(Type.String({ description: 'into the request document' })),
            parameter: Type.Optional(Type.String({ description: 'the query parameter' })),
          }),
        ),
        meta: Type.Optional(Meta),
      }),
    ),
    jsonapi: Type.Optional(Type.Object({ version: Type.String() })),
    meta: Type.Optional(Meta),
  },
  { description: 'A JSON:API error document: every refusal, for a client that speaks JSON:API.' },
);
