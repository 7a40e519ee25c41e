import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalid } from '../../errors/codes.ts';

/** Multipart limits: a DRF write is a few short fields; files are read and dropped (no view of this API takes one). */
const MULTIPART_LIMITS = { fields: 50, fieldSize: 64 * 1024, parts: 60, files: 10, fileSize: 1024 * 1024 };

/** The fields whose value is a list or an object, which a form may send as JSON text. */
const STRUCTURED = new Set(['room_member', 'profile']);

const FORM_TYPES = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i;

/**
 * DRF's parsers, in this scope only: JSON (Fastify's own), `application/x-www-form-urlencoded` and
 * `multipart/form-data`. A form body becomes the object its fields describe (`formObject`), before validation.
 */
export async function acceptDrfBodies(app: FastifyInstance): Promise<void> {
  // No limit of its own: the route's (PARLEY_BODY_LIMIT) applies, as to JSON.
  await app.register(formbody);
  await app.register(multipart, { limits: MULTIPART_LIMITS });
  app.addHook('preValidation', async (request: FastifyRequest) => {
    if (request.isMultipart()) {
      request.body = formObject(await multipartFields(request));
    } else if (FORM_TYPES.test(request.headers['content-type'] ?? '') && isRecord(request.body)) {
      request.body = formObject(request.body);
    }
  });
}

/** The fields of a multipart body, each a list of its values; files are read and dropped. */
async function multipartFields(request: FastifyRequest): Promise<Record<string, string[]>> {
  const fields: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        await pipeline(part.file, new Writable({ write: (_chunk, _encoding, done) => done() }));
      } else {
        (fields[part.fieldname] ??= []).push(
          typeof part.value === 'string' ? part.value : String(part.value),
        );
      }
    }
  } catch (error) {
    const status = isRecord(error) && typeof error.statusCode === 'number' ? error.statusCode : 400;
    if (status === 413) {
      throw error;
    }
    throw invalid(`Multipart form parse error - ${error instanceof Error ? error.message : String(error)}`);
  }
  return fields;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field's value as Django's QueryDict gives it: the last one sent under the name. */
function lastValue(value: unknown): unknown {
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/**
 * The object a form describes, read the way DRF reads form data for nested serializers: `profile.status=Online`
 * is `{"profile": {"status": "Online"}}` and `room_member[0]username=ann` (or `room_member[0].username=ann`) is
 * `{"room_member": [{"username": "ann"}]}`. A field sent twice counts once, its last value, as in Django.
 * `room_member` and `profile` may also be sent as JSON text (`room_member=[{"username": "ann"}]`).
 */
export function formObject(fields: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const lists = new Map<string, Map<number, Record<string, unknown>>>();
  for (const [key, raw] of Object.entries(fields)) {
    const value = lastValue(raw);
    const item = /^([A-Za-z_]\w*)\[(\d{1,4})\]\.?(\w+)$/.exec(key);
    if (item) {
      const [, name, index, field] = item as unknown as [string, string, string, string];
      const list = lists.get(name) ?? new Map<number, Record<string, unknown>>();
      list.set(Number(index), { ...(list.get(Number(index)) ?? {}), [field]: value });
      lists.set(name, list);
      continue;
    }
    const nested = /^([A-Za-z_]\w*)\.(\w+)$/.exec(key);
    if (nested) {
      const [, name, field] = nested as unknown as [string, string, string];
      const target = isRecord(result[name]) ? result[name] : {};
      result[name] = { ...target, [field]: value };
      continue;
    }
    result[key] = STRUCTURED.has(key) && typeof value === 'string' ? jsonOr(value) : value;
  }
  for (const [name, items] of lists) {
    result[name] = [...items.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
  }
  return result;
}

function jsonOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * What DRF says when a body cannot be read: a JSON parse error, a content type no parser takes, a body over the
 * limit. Null for any other error.
 */
export function bodyProblem(error: unknown, request: FastifyRequest): string | null {
  const code = isRecord(error) && typeof error.code === 'string' ? error.code : '';
  const message = error instanceof Error ? error.message : '';
  switch (code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return `JSON parse error - ${message}`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `Unsupported media type "${request.headers['content-type'] ?? ''}" in request.`;
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'Request body is too large.';
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
    case 'FST_REQ_FILE_TOO_LARGE':
      return `Multipart form parse error - ${message}`;
    default:
      return message.startsWith('Multipart form parse error - ') ? message : null;
  }
}
