import { Ajv } from 'ajv';
import type { FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import type { Context } from '../context.ts';
import { AppError, type ErrorCode } from '../errors/codes.ts';
import { describeValidation, type ValidationIssue } from '../errors/http.ts';
import type { Presentation } from './jsonapi.document.ts';
import { attributeNames, type ResourceType } from './jsonapi.fields.ts';
import { relationshipOf, type Identifier } from './jsonapi.resources.ts';
import type { BodySpec, RelationshipInput } from './jsonapi.spec.ts';

const Meta = Type.Record(Type.String(), Type.Unknown());
const JsonApiObject = Type.Object(
  { version: Type.Optional(Type.String()), meta: Type.Optional(Meta) },
  { additionalProperties: false },
);

export const IdentifierInput = Type.Object(
  { type: Type.String({ minLength: 1 }), id: Type.String({ minLength: 1 }), meta: Type.Optional(Meta) },
  { additionalProperties: false },
);

/** A request's resource document (JSON:API 1.0, "Creating" and "Updating Resources"). */
export const ResourceDocument = Type.Object(
  {
    data: Type.Object(
      {
        type: Type.String({ minLength: 1 }),
        id: Type.Optional(Type.String({ minLength: 1 })),
        attributes: Type.Optional(Meta),
        relationships: Type.Optional(
          Type.Record(
            Type.String(),
            Type.Object(
              {
                data: Type.Union([Type.Null(), IdentifierInput, Type.Array(IdentifierInput)]),
                meta: Type.Optional(Meta),
              },
              { additionalProperties: false },
            ),
          ),
        ),
        meta: Type.Optional(Meta),
      },
      { additionalProperties: false },
    ),
    jsonapi: Type.Optional(JsonApiObject),
    meta: Type.Optional(Meta),
  },
  { additionalProperties: false },
);
type ResourceDocument = Static<typeof ResourceDocument>;

/** A request to a to-many relationship endpoint: the identifiers to add or remove. */
export const IdentifiersDocument = Type.Object(
  {
    data: Type.Array(IdentifierInput, { maxItems: 1000 }),
    jsonapi: Type.Optional(JsonApiObject),
    meta: Type.Optional(Meta),
  },
  { additionalProperties: false },
);
export type IdentifiersDocument = Static<typeof IdentifiersDocument>;

const validateDocument = new Ajv({ allErrors: false, strict: false }).compile<ResourceDocument>(
  ResourceDocument,
);

/** `data.relationships.members.data[0].id` → `/data/relationships/members/data/0/id` (RFC 6901). */
export function pointerOfPath(path: string): string {
  if (path === '' || path === 'body') {
    return '';
  }
  const segments: string[] = [];
  for (const part of path.split('.')) {
    const [name = '', ...indexes] = part.split(/\[(\d+)\]/).filter((s) => s !== '');
    segments.push(name, ...indexes);
  }
  return segments.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** An error about one member of the request document, pointing at it. */
export function documentError(code: ErrorCode, pointer: string, name: string, problem: string): AppError {
  return new AppError(code, `${name}: ${problem}`, [{ field: name, in: 'body', problem, pointer }]);
}

/** Where a native body field came from in the document, and what the client called it. */
export interface FieldOrigin {
  pointer: string;
  name: string;
}

export interface Translated {
  /** The native body: what the route's schema validates and its service receives. */
  body: Record<string, unknown>;
  origins: Map<string, FieldOrigin>;
  /** The `data.id` of an update, checked against the resource the URL names once the params are valid. */
  targetId?: string;
}

async function relationshipValue(
  name: string,
  input: RelationshipInput,
  data: Identifier | Identifier[] | null,
  request: FastifyRequest,
  ctx: Context,
): Promise<unknown> {
  const pointer = `/data/relationships/${name}/data`;
  const many = input.many === true;
  if (Array.isArray(data) !== many && !(data === null && !many)) {
    const shape = many ? 'an array of resource identifiers' : 'one resource identifier or null';
    throw documentError('invalid_request', pointer, name, `must be ${shape}`);
  }
  const identifiers = data === null ? [] : Array.isArray(data) ? data : [data];
  identifiers.forEach((identifier, i) => {
    if (identifier.type !== input.type) {
      const at = Array.isArray(data) ? `${pointer}/${i}/type` : `${pointer}/type`;
      throw documentError('invalid_request', at, name, `must name ${input.type}, not ${identifier.type}`);
    }
  });
  if (input.fixed) {
    const expected = input.fixed(request);
    const wrong = identifiers.find((identifier) => identifier.id !== expected);
    if (wrong) {
      throw documentError(
        'invalid_request',
        `${pointer}/id`,
        name,
        `can only be ${input.type} "${expected}" here, not "${wrong.id}"`,
      );
    }
    return undefined;
  }
  if (many) {
    return identifiers.map((identifier) => identifier.id);
  }
  const [identifier] = identifiers;
  if (!identifier) {
    return undefined;
  }
  if (!input.resolve) {
    return identifier.id;
  }
  const value = await input.resolve(request, ctx, identifier.id);
  if (value === null) {
    throw documentError('invalid_request', `${pointer}/id`, name, `no ${input.type} "${identifier.id}" here`);
  }
  return value;
}

/**
 * Reads a request's resource document into the route's native body: attributes become fields (renamed where
 * the spec says), relationships become ids, so the route's own schema and service apply unchanged. Problems with
 * the document itself are answered here, pointing at the member at fault.
 */
export async function translateBody(
  document: unknown,
  type: ResourceType,
  spec: BodySpec,
  presentation: Presentation,
  request: FastifyRequest,
  ctx: Context,
): Promise<Translated> {
  if (!validateDocument(document)) {
    const { message, details } = describeValidation(
      (validateDocument.errors ?? []) as ValidationIssue[],
      'body',
    );
    throw new AppError(
      'invalid_request',
      message,
      details.map((detail) => ({ ...detail, pointer: pointerOfPath(detail.field) })),
    );
  }
  const { data } = document;
  if (data.type !== type) {
    throw documentError('conflict', '/data/type', 'type', `this endpoint takes ${type}, not "${data.type}"`);
  }
  const body: Record<string, unknown> = {};
  const origins = new Map<string, FieldOrigin>();
  const translated: Translated = { body, origins };
  if (data.id !== undefined) {
    if (spec.id && 'field' in spec.id) {
      body[spec.id.field] = data.id;
      origins.set(spec.id.field, { pointer: '/data/id', name: 'id' });
    } else if (spec.id && 'target' in spec.id) {
      translated.targetId = data.id;
    } else {
      throw documentError('forbidden', '/data/id', 'id', `${type} get their ids from the server`);
    }
  } else if (spec.id && 'target' in spec.id) {
    throw documentError('invalid_request', '/data/id', 'id', 'is required');
  }
  const known = attributeNames(type);
  for (const [name, value] of Object.entries(data.attributes ?? {})) {
    const pointer = `/data/attributes/${name}`;
    if (name === 'id' || name === 'type') {
      throw documentError('invalid_request', pointer, name, 'is not allowed as an attribute');
    }
    if (presentation.isForeignKey(type, name) && !presentation.isForeignKeyShown(type, name)) {
      throw documentError('invalid_request', pointer, name, 'is given as a relationship here');
    }
    const field = spec.rename?.[name] ?? name;
    if (!known.includes(name) && !presentation.isForeignKey(type, name)) {
      throw documentError('invalid_request', pointer, name, `is not an attribute of ${type}`);
    }
    body[field] = value;
    origins.set(field, { pointer, name });
  }
  if (spec.unwrap !== undefined) {
    unwrapAttribute(translated, spec.unwrap);
  }
  for (const [name, relationship] of Object.entries(data.relationships ?? {})) {
    const input =
      spec.relationships && Object.hasOwn(spec.relationships, name) ? spec.relationships[name] : undefined;
    const pointer = `/data/relationships/${name}`;
    if (!input) {
      throw relationshipOf(type, name)
        ? documentError('forbidden', pointer, name, 'cannot be set here')
        : documentError('invalid_request', pointer, name, `is not a relationship of ${type}`);
    }
    const value = await relationshipValue(
      name,
      input,
      relationship.data as Identifier | Identifier[] | null,
      request,
      ctx,
    );
    if (input.field !== undefined && value !== undefined) {
      body[input.field] = value;
      origins.set(input.field, { pointer: `${pointer}/data`, name });
    }
  }
  return translated;
}

/** The one attribute whose members are the native body (a chat's `settings`): `{settings: {muted}}` → `{muted}`. */
function unwrapAttribute({ body, origins }: Translated, name: string): void {
  const inner = body[name];
  const pointer = `/data/attributes/${name}`;
  delete body[name];
  origins.delete(name);
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
    throw documentError('invalid_request', pointer, name, 'is required, as an object');
  }
  for (const [field, value] of Object.entries(inner)) {
    body[field] = value;
    origins.set(field, { pointer: `${pointer}/${field}`, name: `${name}.${field}` });
  }
}
