import type { SwaggerTransformObject } from '@fastify/swagger';
import { ERROR_STATUS, type ErrorCode } from '../errors/codes.ts';
import { ERROR_RESPONSES, errorResponse } from './openapi.errors.ts';

/**
 * The document as a whole, once @fastify/swagger has made an operation of every route (`openapi.operations.ts`):
 * error responses declared once and referred to, tags, and only the named schemas something refers to.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every `$ref` in a part of the document. */
function references(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) {
    value.forEach((each) => references(each, found));
  } else if (isObject(value)) {
    for (const [key, each] of Object.entries(value)) {
      if (key === '$ref' && typeof each === 'string') {
        found.add(each);
      } else {
        references(each, found);
      }
    }
  }
  return found;
}

/** Named schemas nothing refers to (JSON:API's when it is off, views of routes not mounted) are left out. */
function pruneSchemas(document: Json, schemas: Json): Json {
  const prefix = '#/components/schemas/';
  const { components, ...rest } = document;
  const wanted = new Set<string>();
  let frontier = [...references([rest, (components as Json).responses], new Set())];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const target of frontier) {
      const name = target.startsWith(prefix) ? target.slice(prefix.length) : null;
      if (name === null || wanted.has(name)) {
        continue;
      }
      wanted.add(name);
      next.push(...references(schemas[name], new Set()));
    }
    frontier = next;
  }
  return Object.fromEntries(Object.entries(schemas).filter(([name]) => wanted.has(name)));
}

const sortedByStatus = (responses: Json): Json =>
  Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/**
 * `transformObject` of @fastify/swagger: each operation's errors become references to the document's error
 * responses (with JSON:API's error document where JSON:API is on), declared once in `components.responses`.
 */
export function finishDocument(jsonapi: boolean, tags: Record<string, string>): SwaggerTransformObject {
  return (input) => {
    const document = ('openapiObject' in input ? input.openapiObject : {}) as Json;
    const used = new Set<number>();
    const tagged = new Set<string>();
    for (const item of Object.values((document.paths ?? {}) as Record<string, Json>)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!METHODS.has(method) || !isObject(operation)) {
          continue;
        }
        const codes = (operation['x-refusals'] ?? []) as ErrorCode[];
        delete operation['x-refusals'];
        const answers = (operation.responses ?? {}) as Json;
        for (const status of codes.map((code) => ERROR_STATUS[code])) {
          answers[status] ??= { $ref: `#/components/responses/${ERROR_RESPONSES[status]!.name}` };
          used.add(status);
        }
        operation.responses = sortedByStatus(answers);
        for (const tag of (operation.tags ?? []) as string[]) {
          tagged.add(tag);
        }
      }
    }
    const components = (document.components ?? {}) as Json;
    const errorResponses = Object.fromEntries(
      [...used]
        .sort((a, b) => a - b)
        .map((status) => [ERROR_RESPONSES[status]!.name, errorResponse(status, jsonapi)]),
    );
    const finished: Json = {
      ...document,
      // The tags of the operations there are, in the order of the table (dialects' last).
      tags: [
        ...Object.keys(tags).filter((name) => tagged.has(name)),
        ...[...tagged].filter((name) => !(name in tags)),
      ].map((name) => ({ name, description: tags[name] ?? `The ${name} dialect (docs/dialects).` })),
      components: { ...components, responses: errorResponses },
    };
    const schemas = pruneSchemas(finished, (components.schemas ?? {}) as Json);
    return {
      ...finished,
      components: { ...components, schemas, responses: errorResponses },
    } as ReturnType<SwaggerTransformObject>;
  };
}
