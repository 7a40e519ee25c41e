import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';

type Schema = Record<string, unknown>;

const PRIMITIVE_OR_OBJECT = new Set(['string', 'integer', 'number', 'boolean', 'object', 'array']);

/**
 * The response schema as the serializer should read it: a nullable value written `anyOf: [X, {type: 'null'}]` (how
 * the API's schemas and the OpenAPI document say it) becomes X with `type: [X's type, 'null']`. fast-json-stringify
 * writes both the same JSON, but picks a branch of an `anyOf` by validating the value against it: a date-time
 * format check for every nullable time, a whole message view validated for a chat's `lastMessage` (0.3 µs a
 * nullable time alone, against none). Anything else is left as it is.
 */
export function serializationSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) {
    return schema.map(serializationSchema);
  }
  if (schema === null || typeof schema !== 'object') {
    return schema;
  }
  const node = schema as Schema;
  const anyOf = node.anyOf;
  if (Array.isArray(anyOf) && anyOf.length === 2) {
    const nullAt = anyOf.findIndex((s) => isNullSchema(s));
    const other = anyOf[1 - nullAt] as Schema | undefined;
    if (nullAt >= 0 && other && typeof other.type === 'string' && PRIMITIVE_OR_OBJECT.has(other.type)) {
      const { anyOf: _anyOf, ...rest } = node;
      const inner = serializationSchema(other) as Schema;
      return { ...rest, ...inner, type: [inner.type as string, 'null'] };
    }
  }
  const copy: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    copy[key] = serializationSchema(value);
  }
  return copy;
}

function isNullSchema(schema: unknown): boolean {
  return (
    typeof schema === 'object' &&
    schema !== null &&
    (schema as Schema).type === 'null' &&
    Object.keys(schema).every((key) => key === 'type' || typeof key === 'symbol')
  );
}

/** Fastify's response serializers, compiled from `serializationSchema` of each route's response schema. */
export function createSerializerCompiler(): FastifySerializerCompiler<unknown> {
  return ({ schema }) => fastJson(serializationSchema(schema) as Parameters<typeof fastJson>[0]);
}
