import type { ErrorBody, ErrorCode } from '../errors/codes.ts';
import { pointerOfPath, type FieldOrigin } from './jsonapi.request.ts';

/** One title per code: JSON:API titles do not change from occurrence to occurrence. */
const TITLES: Record<ErrorCode, string> = {
  invalid_request: 'Invalid request',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  not_acceptable: 'Not acceptable',
  request_timeout: 'Request timeout',
  conflict: 'Conflict',
  limit_exceeded: 'Limit exceeded',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  upgrade_required: 'Upgrade required',
  rate_limited: 'Rate limited',
  headers_too_large: 'Request headers too large',
  internal: 'Internal error',
  unavailable: 'Unavailable',
};

interface Source {
  pointer?: string;
  parameter?: string;
}

export interface ErrorObject {
  status: string;
  code: string;
  title: string;
  detail: string;
  source?: Source;
  meta?: Record<string, unknown>;
}

/** What the request looked like, so an error can point at what the client sent. */
export interface ErrorContext {
  /** Native body fields that came from a translated resource document, and where. */
  origins?: Map<string, FieldOrigin>;
  /** Native query fields → the JSON:API parameters they came from. */
  parameters?: Map<string, string>;
  /** The native query and body as the route saw them. */
  queryKeys: Set<string>;
  hasBody: boolean;
}

/** A field as errors name it (`members[2]`, `data.type`) → its first member and the rest of the path. */
function splitField(field: string): [string, string[]] {
  const segments = pointerOfPath(field)
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  return [segments[0] ?? '', segments.slice(1)];
}

const escape = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');
const indexSuffix = (rest: string[]) => rest.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join('');

/** Where a field of a native error is in the request, and the name the client knows it by. */
function locate(field: string, where: string, context: ErrorContext): { source?: Source; name: string } {
  if (where === 'querystring') {
    const parameter = context.parameters?.get(field) ?? field;
    return { source: { parameter }, name: parameter };
  }
  if (where !== 'body') {
    return { name: field };
  }
  const [root, rest] = splitField(field);
  const origin = context.origins?.get(root);
  if (origin) {
    return {
      source: { pointer: origin.pointer + rest.map((s) => `/${escape(s)}`).join('') },
      name: origin.name + indexSuffix(rest),
    };
  }
  if (context.origins) {
    // A translated document: the whole body is its attributes; anything else is an attribute by that name.
    return {
      source: { pointer: field === 'body' ? '/data/attributes' : `/data/attributes${pointerOfPath(field)}` },
      name: field,
    };
  }
  return { source: { pointer: pointerOfPath(field) }, name: field };
}

const FIELD_PREFIX = /^([A-Za-z_]\w*(?:\[\d+\])*(?:\.[A-Za-z_]\w*(?:\[\d+\])*)*): /;

interface Detail {
  field: string;
  in: string;
  problem: string;
  pointer?: string;
}

function isDetail(value: unknown): value is Detail {
  const detail = value as Partial<Detail> | null;
  return (
    typeof detail?.field === 'string' && typeof detail.problem === 'string' && typeof detail.in === 'string'
  );
}

function stackOf(details: unknown[] | undefined): string | undefined {
  const entry = details?.find((d) => typeof (d as { stack?: unknown } | null)?.stack === 'string');
  return entry ? (entry as { stack: string }).stack : undefined;
}

/**
 * The contract's error body as a JSON:API error document: one error object per field at fault, with a pointer
 * into the request document (or the query parameter) and the detail naming what the client sent. The stack of an
 * unexpected error, which the error handler adds only in development, goes to `meta`.
 */
export function errorDocument(
  status: number,
  body: ErrorBody,
  context: ErrorContext,
): { errors: ErrorObject[]; jsonapi: { version: '1.0' } } {
  const { code, message, details } = body.error;
  const base = { status: String(status), code, title: TITLES[code] ?? code };
  const fields = (details ?? []).filter(isDetail);
  let errors: ErrorObject[];
  if (fields.length > 0) {
    errors = fields.map((detail) => {
      const { source, name } =
        detail.pointer !== undefined
          ? { source: { pointer: detail.pointer }, name: detail.field }
          : locate(detail.field, detail.in, context);
      return { ...base, detail: `${name}: ${detail.problem}`, ...(source ? { source } : {}) };
    });
  } else {
    const field = FIELD_PREFIX.exec(message)?.[1];
    const where =
      field === undefined
        ? null
        : context.queryKeys.has(field)
          ? 'querystring'
          : context.hasBody && status < 500
            ? 'body'
            : null;
    if (field !== undefined && where !== null) {
      const { source, name } = locate(field, where, context);
      errors = [{ ...base, detail: name + message.slice(field.length), ...(source ? { source } : {}) }];
    } else {
      errors = [{ ...base, detail: message }];
    }
  }
  const stack = stackOf(details);
  if (stack !== undefined && errors[0]) {
    errors[0].meta = { stack };
  }
  return { errors, jsonapi: { version: '1.0' } };
}
